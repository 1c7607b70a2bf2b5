// Content lines (RFC 5545 §3.1) as they sit in the text: each logical line keeps its raw physical lines, folds
// and line breaks included, so that a line nobody edits is written back byte for byte.
import { decodeParamValue } from './text-codec.js';

/** One logical content line: its raw text (all physical lines, with their line breaks) and its unfolded text. */
export interface LogicalLine {
  /** Exact source text: every physical line of this logical line, including folds and line breaks. */
  raw: string;
  /** Unfolded content without the line break. Empty for a blank line. */
  text: string;
  /** 1-based number of the first physical line in the source; 0 for a line written by an edit. */
  lineNo: number;
  /** The line break ending the last physical line: CRLF, LF, or '' at the end of a file without one. */
  eol: '' | '\n' | '\r\n';
}

/** One parameter of a content line (RFC 5545 §3.2), values unquoted and RFC 6868-decoded. */
export interface Param {
  name: string; // upper-case
  values: string[];
}

/** A content line split into name, parameters and raw (still escaped) value. */
export interface ParsedLine {
  /** Upper-case property name. */
  name: string;
  /** The name as written in the source. */
  nameRaw: string;
  params: Param[];
  /** The parameter part exactly as written, from the first ';' up to the ':' before the value. */
  paramsRaw: string;
  /** The value exactly as written (TEXT still escaped). */
  value: string;
}

/**
 * Splits text into logical lines. A physical line starting with a space or a tab continues the previous
 * one (RFC 5545 §3.1), like ical.js does; CRLF and LF are both line breaks, so LF files (some Apple exports)
 * read the same way.
 */
export function readLines(text: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let current: LogicalLine | null = null;
  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    lineNo++;
    const nl = text.indexOf('\n', pos);
    const next = nl < 0 ? text.length : nl + 1;
    const eol: LogicalLine['eol'] = nl < 0 ? '' : nl > pos && text.charCodeAt(nl - 1) === 13 ? '\r\n' : '\n';
    // A byte order mark left in the text (decodeIcs drops it) stays in the raw bytes but not in the content.
    const content = text.slice(pos === 0 && text.charCodeAt(0) === 0xfeff ? 1 : pos, next - eol.length);
    const raw = text.slice(pos, next);
    const first = content.charCodeAt(0);
    if (current && (first === 32 || first === 9)) {
      current.raw += raw;
      current.text += content.slice(1);
      current.eol = eol;
    } else {
      current = { raw, text: content, lineNo, eol };
      out.push(current);
    }
    pos = next;
  }
  return out;
}

const isNameChar = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 46;

/**
 * Parses an unfolded content line: `name *(";" param) ":" value` (RFC 5545 §3.1). Parameter values may be
 * quoted and may be comma-separated lists; they are RFC 6868-decoded. Returns null for a line that does not
 * have that shape (no name, no ':' after the parameters, an unterminated quote).
 */
export function parseContentLine(text: string): ParsedLine | null {
  const len = text.length;
  let i = 0;
  while (i < len && isNameChar(text.charCodeAt(i))) i++;
  if (i === 0) return null;
  const nameRaw = text.slice(0, i);
  const paramsStart = i;
  const params: Param[] = [];
  while (text.charCodeAt(i) === 59 /* ; */) {
    i++;
    const nameStart = i;
    while (i < len && isNameChar(text.charCodeAt(i))) i++;
    if (i === nameStart || text.charCodeAt(i) !== 61 /* = */) return null;
    const name = text.slice(nameStart, i).toUpperCase();
    i++;
    const values: string[] = [];
    for (;;) {
      if (text.charCodeAt(i) === 34 /* " */) {
        const close = text.indexOf('"', i + 1);
        if (close < 0) return null;
        values.push(decodeParamValue(text.slice(i + 1, close)));
        i = close + 1;
      } else {
        const start = i;
        while (i < len) {
          const c = text.charCodeAt(i);
          if (c === 59 || c === 58 || c === 44) break; // ; : ,
          i++;
        }
        values.push(decodeParamValue(text.slice(start, i)));
      }
      if (text.charCodeAt(i) === 44 /* , */) {
        i++;
        continue;
      }
      break;
    }
    params.push({ name, values });
  }
  if (text.charCodeAt(i) !== 58 /* : */) return null;
  return {
    name: nameRaw.toUpperCase(),
    nameRaw,
    params,
    paramsRaw: text.slice(paramsStart, i),
    value: text.slice(i + 1),
  };
}

/** First value of a parameter (list items joined by ','), or undefined. */
export function paramValue(line: ParsedLine, name: string): string | undefined {
  const p = line.params.find((x) => x.name === name);
  return p ? p.values.join(',') : undefined;
}

/** Parameters as a record: upper-case names, list values joined by ','. A repeated parameter keeps its first value. */
export function paramRecord(line: ParsedLine): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of line.params) if (!(p.name in out)) out[p.name] = p.values.join(',');
  return out;
}
