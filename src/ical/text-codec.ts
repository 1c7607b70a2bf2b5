// Value and parameter encodings of RFC 5545 §3.3.11 (TEXT) and RFC 6868 (parameter value caret encoding).
import { invalid } from '../domain/errors.js';

/**
 * Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks.
 * RFC 5545 has no escape for a carriage return, so CRLF and a lone CR both become `\n`.
 */
export function escapeText(value: string): string {
  return value.replace(/[\\;,]|\r\n|\r|\n/g, (c) => (c === '\\' || c === ';' || c === ',' ? '\\' + c : '\\n'));
}

/**
 * Unescapes a TEXT value (RFC 5545 §3.3.11). `\N` is read like `\n`. An unknown escape such as `\d` (a
 * Windows path written by a careless exporter) is kept as the two characters, so that escaping the result
 * again gives back the same meaning instead of silently losing the backslash.
 */
export function unescapeText(value: string): string {
  if (value.indexOf('\\') < 0) return value;
  return value.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

/** Decodes RFC 6868 caret escapes in a parameter value: ^n newline, ^' double quote, ^^ caret. */
export function decodeParamValue(value: string): string {
  if (value.indexOf('^') < 0) return value;
  return value.replace(/\^(['n^])/g, (_m, c: string) => (c === 'n' ? '\n' : c === "'" ? '"' : '^'));
}

/** Encodes a parameter value with RFC 6868 caret escapes and quotes it when RFC 5545 §3.2 requires it. */
export function encodeParamValue(value: string): string {
  const encoded = value.replace(/\^|"|\r\n|\r|\n/g, (c) => (c === '^' ? '^^' : c === '"' ? "^'" : '^n'));
  return /[;:,]/.test(encoded) ? `"${encoded}"` : encoded;
}

// Parameters whose value is a comma-separated list (RFC 5545 §3.2, RFC 7986 §5.11): each item is quoted on
// its own, and a comma between items is a separator, not part of a value.
const MULTI_VALUE_PARAMS = new Set(['FEATURE', 'MEMBER', 'DELEGATED-TO', 'DELEGATED-FROM']);

/** Formats `;NAME=value` pairs for a content line, in the given order. Names are upper-cased. */
export function formatParams(params: Readonly<Record<string, string>>): string {
  let out = '';
  for (const [rawName, value] of Object.entries(params)) {
    const name = rawName.toUpperCase();
    if (!/^[A-Z0-9-]+$/.test(name)) {
      throw invalid(`parameter name "${rawName}" is not a valid iCalendar name; use letters, digits and "-"`);
    }
    const encoded = MULTI_VALUE_PARAMS.has(name)
      ? value.split(',').map(encodeParamValue).join(',')
      : encodeParamValue(value);
    out += `;${name}=${encoded}`;
  }
  return out;
}

// Properties whose value type is not TEXT (RFC 5545 §3.8, RFC 7986 §5). Everything else — including every
// X- property, whose default type is TEXT — is escaped and unescaped as TEXT.
const NON_TEXT_PROPERTIES = new Set([
  'ATTACH', 'ATTENDEE', 'COMPLETED', 'CONFERENCE', 'CREATED', 'DTEND', 'DTSTAMP', 'DTSTART', 'DUE', 'DURATION',
  'EXDATE', 'EXRULE', 'FREEBUSY', 'GEO', 'IMAGE', 'LAST-MODIFIED', 'ORGANIZER', 'PERCENT-COMPLETE', 'PRIORITY',
  'RDATE', 'RECURRENCE-ID', 'REFRESH-INTERVAL', 'REPEAT', 'RRULE', 'SEQUENCE', 'SOURCE', 'TRIGGER',
  'TZOFFSETFROM', 'TZOFFSETTO', 'TZURL', 'URL',
]);

/** Whether a property's value is TEXT (escaped per RFC 5545 §3.3.11), given its name and its VALUE parameter. */
export function isTextValued(name: string, valueParam: string | undefined): boolean {
  if (valueParam !== undefined) return valueParam.toUpperCase() === 'TEXT';
  return !NON_TEXT_PROPERTIES.has(name.toUpperCase());
}
