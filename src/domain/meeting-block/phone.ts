/**
 * Dial-in numbers: E.164 checking, readable formatting, `tel:` URIs, and finding numbers again in block text.
 * There is no phone-number library here on purpose: we only need the country code split (ITU-T E.164 assigns
 * 1-, 2- and 3-digit codes, listed below) and a grouping that people can read and `parseBlock` can read back.
 */

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

/**
 * `+14255550100` -> `+1 425-555-0100` (North American style), `+33123456789` -> `+33 12 345 6789`.
 * Only separators are added, so the digits (and therefore the E.164 number) are always recoverable.
 */
export function formatE164(number: string): string {
  const digits = number.slice(1);
  const ccLength = countryCodeLength(digits);
  const cc = digits.slice(0, ccLength);
  const national = digits.slice(ccLength);
  if (cc === '1' && national.length === 10) {
    return `+1 ${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`;
  }
  if (national.length <= 4) return `+${cc} ${national}`;
  // Last group of four, the rest in threes from the right: short, evenly spaced, no national rules guessed.
  const head = national.slice(0, -4);
  const groups: string[] = [];
  for (let end = head.length; end > 0; end -= 3) groups.unshift(head.slice(Math.max(0, end - 3), end));
  return `+${cc} ${groups.join(' ')} ${national.slice(-4)}`;
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
