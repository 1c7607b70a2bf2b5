// Prints cmdlet results: a Format-Table style table or Format-List style lines for people, JSON for scripts.
import type { CmdletResult } from './cmdlet.js';

/** Field names whose numbers are epoch ms (CreateDate, StartTime, CreatedAt) and print as ISO 8601 UTC. */
export function isDateField(name: string): boolean {
  return /(Date|Time|At|Before)$/.test(name);
}

function iso(ms: number): string | undefined {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : undefined;
}

/** A value made JSON-ready: dates (Date objects and numbers in date fields) as ISO strings, undefined as null. */
export function toJsonValue(value: unknown, field = ''): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return iso(value.getTime()) ?? null;
  if (typeof value === 'number') return isDateField(field) ? (iso(value) ?? value) : value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, field));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJsonValue(v, k)]));
  }
  return value;
}

/** One value as text for people: dates ISO, booleans True/False as PowerShell prints them, arrays joined. */
export function cellText(value: unknown, field = ''): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return iso(value.getTime()) ?? '';
  if (typeof value === 'number') return (isDateField(field) ? iso(value) : undefined) ?? String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return value.map((v) => cellText(v, field)).join(', ');
  if (typeof value === 'object') return JSON.stringify(toJsonValue(value, field));
  return String(value);
}

// Control characters in data (a meeting subject, a server's error text) must not reach the terminal as escapes.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const clean = (s: string): string => s.replace(CONTROL, ' ');
const oneLine = (s: string): string => clean(s.replace(/\r\n|\r|\n|\t/g, ' '));

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const WIDE = /^[\p{Emoji_Presentation}\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]$/u;

function charWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

/** Terminal columns a string takes (CJK and emoji count two, combining marks none). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** Cuts `s` to at most `width` columns, ending in '…' when something was cut. */
export function cut(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

function pad(s: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/**
 * The columns that say which record a row is, when a result names none (`keyColumns` of a 'rows' result): the
 * first column, and these where present. A key column is never narrowed: `lidiah@… Succ…` names no one.
 */
const IDENTITY_COLUMNS: readonly string[] = ['UserPrincipalName', 'Identity', 'Organizer', 'Target', 'Recipient', 'Cmdlet', 'State', 'Status', 'CorrelationId'];

/** The key columns of a table of `cols`: `keyColumns` when given, else the first column and IDENTITY_COLUMNS present. */
function keyColumnsOf(cols: readonly string[], keyColumns?: readonly string[]): Set<string> {
  return new Set(keyColumns ?? [...cols.slice(0, 1), ...IDENTITY_COLUMNS.filter((c) => cols.includes(c))]);
}

/** Text columns other than key columns are cut no narrower than this (or their header, if wider). */
const TEXT_COLUMN_FLOOR = 12;

/**
 * An aligned table with a header and dashes, like PowerShell's Format-Table. Columns are `columns` or the union
 * of the rows' keys in order; number columns are right-aligned. Without `width` (piped) nothing is cut.
 * With `width` (a TTY): only free-text columns that are not key columns (see keyColumnsOf) are narrowed, widest
 * first, down to TEXT_COLUMN_FLOOR or their header, their cells cut with '…'; key columns, numbers, dates and
 * True/False are never cut (a cut one reads as another value). If the table still does not fit, the rows are
 * printed as a list view instead (formatRecordList, PowerShell's Format-List), where nothing is cut.
 */
export function formatTable(
  rows: readonly Record<string, unknown>[], columns?: readonly string[], width?: number, keyColumns?: readonly string[],
): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (cols.length === 0 || rows.length === 0) return '';
  const cells = rows.map((r) => cols.map((c) => oneLine(cellText(r[c], c))));
  const heads = cols.map(oneLine);
  const right = cols.map((c) => !isDateField(c) && rows.some((r) => typeof r[c] === 'number') && rows.every((r) => r[c] == null || typeof r[c] === 'number'));
  const widths = cols.map((_, i) => Math.max(displayWidth(heads[i]!), ...cells.map((row) => displayWidth(row[i]!))));
  if (width !== undefined) {
    const keys = keyColumnsOf(cols, keyColumns);
    const isText = (c: string): boolean => !isDateField(c) && rows.every((r) => r[c] == null || typeof r[c] === 'string' || Array.isArray(r[c]) || (typeof r[c] === 'object' && !(r[c] instanceof Date)));
    const floors = cols.map((c, i) => (keys.has(c) || !isText(c) ? widths[i]! : Math.min(widths[i]!, Math.max(TEXT_COLUMN_FLOOR, displayWidth(heads[i]!)))));
    let total = widths.reduce((a, b) => a + b, 0) + widths.length - 1;
    while (total > width) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (widths[i]! > floors[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      }
      if (widest < 0) return formatRecordList(rows, cols);
      widths[widest]!--;
      total--;
    }
  }
  const line = (vals: readonly string[]): string =>
    vals.map((v, i) => pad(cut(v, widths[i]!), widths[i]!, right[i]!)).join(' ').trimEnd();
  const dashes = heads.map((h, i) => '-'.repeat(Math.min(displayWidth(h), widths[i]!)));
  return [line(heads), line(dashes), ...cells.map(line)].join('\n') + '\n';
}

/** Rows as a list view: one formatList block per row (the given columns, in order), blocks apart by a blank line. */
export function formatRecordList(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  return rows.map((r) => formatList(Object.fromEntries(columns.map((c) => [c, r[c]])))).join('\n');
}

/** "Name : Value" lines with the names padded, like PowerShell's Format-List; long values are never cut. */
export function formatList(value: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return '';
  const w = Math.max(...keys.map((k) => displayWidth(k)));
  const indent = ' '.repeat(w + 3);
  return (
    keys
      .map((k) => {
        const lines = cellText(value[k], k).split(/\r\n|\r|\n/).map((l) => clean(l.replace(/\t/g, ' ')));
        const [first = '', ...more] = lines;
        return [`${pad(k, w, false)} : ${first}`.trimEnd(), ...more.map((m) => `${indent}${m}`.trimEnd())].join('\n');
      })
      .join('\n') + '\n'
  );
}

export interface FormatOptions {
  /** Print JSON (`--json`) instead of text. */
  readonly json: boolean;
  /** Terminal width when stdout is a TTY: text columns are narrowed, else a list view. Undefined when piped: nothing is cut. */
  readonly width?: number;
}

/** Text for people as lines: control characters blanked, one final newline ('' stays ''). */
function messageText(text: string): string {
  return text === '' ? '' : `${clean(text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ')).replace(/\n$/, '')}\n`;
}

/** The text to print for a cmdlet's result ('' when there is nothing to print). */
export function formatResult(result: CmdletResult, opts: FormatOptions): string {
  if (opts.json) {
    const json = (v: unknown): string => `${JSON.stringify(toJsonValue(v), null, 2)}\n`;
    switch (result.kind) {
      case 'rows':
        return json(result.rows);
      case 'object':
        return json(result.value);
      case 'message':
        return json({ Message: result.text });
      case 'none':
        return '';
    }
  }
  switch (result.kind) {
    case 'rows':
      if (result.text !== undefined) return messageText(result.text);
      return formatTable(result.rows, result.columns, opts.width, result.keyColumns);
    case 'object':
      return formatList(result.value);
    case 'message':
      return messageText(result.text);
    case 'none':
      return '';
  }
}

/**
 * The line that says a listing was cut (one form for every listing cmdlet, text and --json alike, printed on
 * stderr): `mms: Get-MmsOutbox showed rows 1-10000 of 27000; see the rest with -Skip 10000 (and -First)`.
 * Undefined when every row the filter matches was shown. `total` is counted by the database.
 */
export function pageNotice(result: CmdletResult, cmdlet: string): string | undefined {
  if (result.kind !== 'rows' || !result.page) return undefined;
  const { total, skip } = result.page;
  const shown = result.rows.length;
  if (shown >= total) return undefined;
  const range = shown ? `rows ${skip + 1}-${skip + shown} of ${total}` : `no rows of ${total} (-Skip ${skip})`;
  const next = skip + shown < total ? `see the rest with -Skip ${skip + shown} (and -First)` : `rows 1-${skip} were skipped (-Skip ${skip})`;
  return `mms: ${cmdlet} showed ${range}; ${next}\n`;
}
