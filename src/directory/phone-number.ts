import { usageError } from '../domain/errors.js';

/**
 * Normalises a phone number to E.164 (`+14255550100`): spaces, dashes, dots and parentheses are allowed between
 * digits, as admins paste them; anything else is refused with the format to use.
 */
export function toE164(input: string, param = 'number'): string {
  const compact = input.trim().replace(/^tel:/i, '').replace(/[\s\-.()]/g, '');
  if (!/^\+[1-9]\d{6,14}$/.test(compact)) {
    throw usageError(`${param} '${input}' is not an E.164 phone number: write + country code and number, e.g. +14255550100`);
  }
  return compact;
}

/**
 * Parses a bridge service number as `New-MmsBridge` takes it: `+14255550100 (Seattle) en-US es-US` — the number,
 * an optional city/region label in parentheses (blanks and line breaks collapse to one space), then optional
 * language tags.
 */
export function parseServiceNumber(input: string, param: string): { number: string; city: string; languages: string[] } {
  const m = /^\s*([^()]+?)\s*(?:\(([^()]*)\))?\s*((?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\s*)*)$/.exec(input);
  if (!m) throw usageError(`${param} '${input}' is not understood: write "+14255550100 (Seattle) en-US es-US" (label and languages optional)`);
  const city = (m[2] ?? '').trim().replace(/\s+/gu, ' ');
  if (/[\p{Cc}\u2028\u2029]/u.test(city)) throw usageError(`${param} '${input}': the label holds a control character; write it on one line, e.g. (Seattle)`);
  return {
    number: toE164(m[1] ?? '', param),
    // Optional: a number without a label is named by its country in the block.
    city,
    languages: (m[3] ?? '').split(/\s+/).filter(Boolean),
  };
}
