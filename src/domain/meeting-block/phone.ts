/**
 * Dial-in numbers: E.164 checking, formatting the way each country writes its numbers, the country's name for a
 * number without a label, `tel:` URIs, and finding numbers again in block text. Country rules come from
 * libphonenumber-js (Google's libphonenumber metadata); the fallback grouping below covers what it does not know.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

export const E164 = /^\+[1-9]\d{6,14}$/;

// Every ITU country code shorter than three digits; all others are three digits long.
const ONE_DIGIT = new Set(['1', '7']);
const TWO_DIGIT = new Set(
  (
    '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 ' +
    '60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'
  ).split(' '),
);

function countryCodeLength(digits: string): number {
  if (ONE_DIGIT.has(digits.slice(0, 1))) return 1;
  if (TWO_DIGIT.has(digits.slice(0, 2))) return 2;
  return 3;
}

/** Last group of four, the rest in threes from the right: for numbers no country rule covers. */
function groupEvenly(cc: string, national: string): string {
  if (national.length <= 4) return `+${cc} ${national}`;
  const head = national.slice(0, -4);
  const groups: string[] = [];
  for (let end = head.length; end > 0; end -= 3) groups.unshift(head.slice(Math.max(0, end - 3), end));
  return `+${cc} ${groups.join(' ')} ${national.slice(-4)}`;
}

const parse = (number: string) => (E164.test(number) ? parsePhoneNumberFromString(number) : undefined);

/**
 * A number as its country writes it in international form: `+44 20 7555 0100`, `+33 1 70 37 55 00`,
 * `+81 3 1234 5678`; North American numbers keep the dashes people there write (`+1 425-555-0100`). Only separators
 * are added, so the digits (and therefore the E.164 number) are always recoverable; a number no country rule
 * covers is grouped evenly.
 */
export function formatE164(number: string): string {
  const digits = number.slice(1);
  const ccLength = countryCodeLength(digits);
  const cc = digits.slice(0, ccLength);
  const national = digits.slice(ccLength);
  if (cc === '1' && national.length === 10) {
    return `+1 ${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`;
  }
  const formatted = parse(number)?.formatInternational();
  // Kept only when it is the same digits with plain separators, which parseBlock reads back.
  if (formatted && /^\+\d[\d -]*\d$/.test(formatted) && formatted.replace(/\D/g, '') === digits) return formatted;
  return groupEvenly(cc, national);
}

const regionNames = new Map<string, Intl.DisplayNames>();

/**
 * The name of the country or region a number belongs to, in `language` (`+442075550100` -> `United Kingdom`,
 * `Royaume-Uni`); null for numbers of no country (`+800`, `+882`) or an unknown one.
 */
export function regionNameOf(number: string, language: string): string | null {
  const country = parse(number)?.country;
  if (!country) return null;
  let names = regionNames.get(language);
  if (!names) {
    names = new Intl.DisplayNames([language, 'en'], { type: 'region', fallback: 'none' });
    regionNames.set(language, names);
  }
  return names.of(country) ?? null;
}

/**
 * A dial string that joins the conference directly: `tel:+14255550100,,1234567%23` (two pauses, the id, then `#`,
 * percent-encoded because `#` would start a URI fragment).
 */
export function telUri(number: string, conferenceId: string): string {
  return `tel:${number},,${conferenceId}%23`;
}

// Optional country code or trunk digits, optional area code in parentheses ("+1 (425) 555-0100", "(866) 555-0199"),
// then digits with single separators. Parentheses are only taken up front, so a label after the number such as
// "(75008)" or "(12) 3" is never read as part of it.
const SEP = '[ \\u00a0.\\-]';
const PHONE_SOURCE = String.raw`(?<![\w+])\+?(?:\d{1,4}${SEP}?)?(?:\(\d{1,5}\)${SEP}?)?\d(?:${SEP}?\d)*`;

/** Normalises a phone token to `+digits` (or bare digits when it had no `+`); null if it is too short or long. */
function normalisePhone(token: string): string | null {
  const digits = token.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return null;
  return token.trimStart().startsWith('+') ? `+${digits}` : digits;
}

/** The phone number a line starts with, if any. */
export function leadingPhone(line: string): string | null {
  const m = new RegExp(`^\\s*(${PHONE_SOURCE})`, 'u').exec(line);
  return m?.[1] === undefined ? null : normalisePhone(m[1]);
}

/** Every phone number in a line of text. */
export function phonesIn(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(new RegExp(PHONE_SOURCE, 'gu'))) {
    const n = normalisePhone(m[0]);
    if (n !== null) out.push(n);
  }
  return out;
}

/** Number and conference id of a `tel:` URI (`tel:+14255550100,,1234567%23`). */
export function parseTelUri(uri: string): { number: string | null; conferenceId: string | null } {
  const body = uri.replace(/^tel:/i, '');
  const numberPart = body.split(/[,;]/)[0] ?? '';
  const id = /,+(\d+)(?:#|%23)?/i.exec(body);
  return { number: normalisePhone(numberPart), conferenceId: id?.[1] ?? null };
}
