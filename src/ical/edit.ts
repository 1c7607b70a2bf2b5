// Content-line editing of stored objects. Only the lines an edit sets, adds or removes are written anew; every
// other line keeps its raw bytes, folding and line breaks included. The result is read again as lines and
// compared with the intended ones before it is returned.
import { invalid } from '../domain/errors.js';
import { type LogicalLine, type ParsedLine, paramRecord, paramValue, parseContentLine, readLines } from './content-line.js';
import { foldLine } from './fold.js';
import { readObjectLines } from './parse-object.js';
import { type Comp, type Item, type PropItem, rawOf } from './structure.js';
import { escapeText, formatParams, isTextValued } from './text-codec.js';
import { decodeValue } from './index-object.js';

/** Content-line editor for one VEVENT of an object (master or exception). Untouched lines keep their raw bytes. */
export interface EventEditor {
  /** Raw RECURRENCE-ID value, or null for the master. */
  readonly recurrenceId: string | null;
  /** Decoded value of the first such property (TEXT unescaped per RFC 5545 §3.3.11), or null. */
  get(name: string): string | null;
  /** Every such property: parameters (upper-case names, unquoted, RFC 6868-decoded) and decoded value. */
  getAll(name: string): Array<{ params: Record<string, string>; value: string }>;
  /**
   * Replaces the first such property in place, or adds it when there is none. The value is given decoded
   * (TEXT is escaped here). Without `params` the line keeps its parameters exactly as written. Setting the
   * value (and parameters) it already has leaves the line untouched.
   */
  set(name: string, value: string, params?: Record<string, string>): void;
  /** Adds a property after the last one of the same name, else after the last property (before any VALARM). */
  add(name: string, value: string, params?: Record<string, string>): void;
  /** Removes the properties of that name for which `match` holds (all without `match`); returns how many. */
  remove(name: string, match?: (p: { params: Record<string, string>; value: string }) => boolean): number;
  /**
   * The raw lines of every property of these (upper-case) names, in order, with the RECURRENCE-ID: two
   * components with the same signature read the same through get/getAll for those names, so a decision made
   * from them holds for both (see EditMemo).
   */
  signature(names: readonly string[]): string;
}

/**
 * What several edits of similar objects can share: content lines already written (escaped, checked, folded),
 * keyed by their inputs. One memo per meeting lets the attendees' copies reuse the organizer's new lines, which
 * are the costly ones (a multi-kilobyte DESCRIPTION and X-ALT-DESC). Lines are never changed once made, so
 * sharing them between objects is safe.
 */
export interface EditMemo {
  readonly lines: Map<string, PropItem>;
  /** Decoded values of long TEXT lines, by raw value: `set` compares meanings before it replaces a line. */
  readonly decoded: Map<string, string>;
}

export const newEditMemo = (): EditMemo => ({ lines: new Map(), decoded: new Map() });

function checkName(name: string): string {
  const upper = name.toUpperCase();
  if (!/^[A-Z0-9-]+$/.test(upper) || upper === 'BEGIN' || upper === 'END') {
    throw invalid(`"${name}" is not a property name an edit may use; use an iCalendar property name such as DESCRIPTION or X-FOO`);
  }
  return upper;
}

class Editor implements EventEditor {
  readonly recurrenceId: string | null;
  /** Upper-case names of the properties this editor changed. */
  readonly touched = new Set<string>();

  constructor(
    private readonly comp: Comp,
    private readonly eol: '\r\n' | '\n',
    private readonly memo?: EditMemo,
  ) {
    this.recurrenceId = this.props('RECURRENCE-ID')[0]?.parsed.value ?? null;
  }

  private props(name: string): Array<PropItem & { parsed: ParsedLine }> {
    return this.comp.items.filter((i): i is PropItem & { parsed: ParsedLine } => i.kind === 'prop' && i.parsed?.name === name);
  }

  private line(nameRaw: string, paramsText: string, value: string, textValued: boolean): PropItem {
    if (!this.memo) return this.makeLine(nameRaw, paramsText, value, textValued);
    const key = `${nameRaw}\u0000${paramsText}\u0000${textValued ? 1 : 0}${this.eol}\u0000${value}`;
    let item = this.memo.lines.get(key);
    if (!item) {
      item = this.makeLine(nameRaw, paramsText, value, textValued);
      this.memo.lines.set(key, item);
    }
    return item;
  }

  private makeLine(nameRaw: string, paramsText: string, value: string, textValued: boolean): PropItem {
    const text = `${nameRaw}${paramsText}:${textValued ? escapeText(value) : value.replace(/\r\n|\r|\n/g, ' ')}`;
    const parsed = parseContentLine(text);
    if (!parsed) throw invalid(`cannot write ${nameRaw}: the result "${text.slice(0, 60)}" is not a valid content line; check the parameters`);
    const line: LogicalLine = { raw: foldLine(text, this.eol) + this.eol, text, lineNo: 0, eol: this.eol };
    return { kind: 'prop', line, parsed };
  }

  /** decodeValue, remembered in the memo for long values (a DESCRIPTION every copy of a meeting shares). */
  private decode(line: ParsedLine): string {
    if (!this.memo || line.value.length < 256 || line.value.indexOf('\\') < 0) return decodeValue(line);
    const key = `${line.name}\u0000${line.paramsRaw}\u0000${line.value}`;
    let v = this.memo.decoded.get(key);
    if (v === undefined) {
      v = decodeValue(line);
      this.memo.decoded.set(key, v);
    }
    return v;
  }

  signature(names: readonly string[]): string {
    let out = this.recurrenceId ?? '';
    for (const i of this.comp.items) if (i.kind === 'prop' && i.parsed && names.includes(i.parsed.name)) out += '\u0000' + i.line.raw;
    return out;
  }

  get(name: string): string | null {
    const first = this.props(checkName(name))[0];
    return first ? decodeValue(first.parsed) : null;
  }

  getAll(name: string): Array<{ params: Record<string, string>; value: string }> {
    return this.props(checkName(name)).map((p) => ({ params: paramRecord(p.parsed), value: decodeValue(p.parsed) }));
  }

  set(name: string, value: string, params?: Record<string, string>): void {
    const upper = checkName(name);
    const existing = this.props(upper)[0];
    if (!existing) return this.add(upper, value, params);
    const old = existing.parsed;
    const paramsText = params ? formatParams(params) : old.paramsRaw;
    const textValued = isTextValued(upper, params ? params['VALUE'] ?? params['value'] : paramValue(old, 'VALUE'));
    const replacement = this.line(old.nameRaw, paramsText, value, textValued);
    if (replacement.line.text === existing.line.text) return;
    if (paramsText === old.paramsRaw && this.decode(old) === value) return; // same meaning, other escaping: keep bytes
    this.comp.items[this.comp.items.indexOf(existing)] = replacement;
    this.touched.add(upper);
  }

  add(name: string, value: string, params?: Record<string, string>): void {
    const upper = checkName(name);
    const paramsText = params ? formatParams(params) : '';
    const item = this.line(upper, paramsText, value, isTextValued(upper, params ? params['VALUE'] ?? params['value'] : undefined));
    const items = this.comp.items;
    // After the last property of the same name (keeps ATTENDEEs together), else after the last property; and
    // always before the first subcomponent, because RFC 5545 §3.6.1 puts every property before the VALARMs.
    let lastSame = -1;
    let lastProp = -1;
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as Item;
      if (it.kind === 'comp') break;
      if (it.kind !== 'prop') continue;
      lastProp = i;
      if (it.parsed?.name === upper) lastSame = i;
    }
    const at = lastSame >= 0 ? lastSame : lastProp;
    items.splice(at + 1, 0, item);
    this.touched.add(upper);
  }

  remove(name: string, match?: (p: { params: Record<string, string>; value: string }) => boolean): number {
    const upper = checkName(name);
    const doomed = new Set<Item>(this.props(upper).filter((p) => !match || match({ params: paramRecord(p.parsed), value: decodeValue(p.parsed) })));
    if (!doomed.size) return 0;
    this.comp.items = this.comp.items.filter((i) => !doomed.has(i));
    this.touched.add(upper);
    return doomed.size;
  }
}

/** Every logical line of items in order, as the text holds them (a component: BEGIN, its items, END). */
function linesOf(items: readonly Item[], into: LogicalLine[] = []): LogicalLine[] {
  for (const i of items) {
    if (i.kind !== 'comp') {
      into.push(i.line);
      continue;
    }
    into.push(i.begin);
    linesOf(i.items, into);
    if (i.end) into.push(i.end);
  }
  return into;
}

/**
 * The check after an edit: the output, split into logical lines again, is exactly the lines intended — the
 * untouched ones byte for byte, each written one whole and where it was put. Only lines change (never BEGIN or
 * END: checkName refuses those names) and every written line was parsed as a content line when it was made, so
 * the components are those of the input. Reading the output's lines costs a fraction of parsing them again.
 */
function verify(uid: string, intended: readonly LogicalLine[], after: string): void {
  const again = readLines(after);
  const bad = again.length !== intended.length ? Math.min(again.length, intended.length) : again.findIndex((l, k) => l.raw !== (intended[k] as LogicalLine).raw);
  if (bad >= 0) {
    throw invalid(`${uid}: the edited object does not read back as the lines written (line ${bad + 1}); this is a bug in the edit, report it with the object`);
  }
}

/**
 * Edits every VEVENT of a stored object (master and exceptions, in order) through a content-line editor.
 * Lines the callback does not change keep their raw bytes; new lines are folded at 75 octets with the line
 * break style of the object. Returns the input unchanged (the same string) when nothing changed.
 *
 * @throws MmsError('Invalid') when the object does not parse, or when the result would not parse or would
 * differ from the input in a property the callback did not touch.
 */
export function editEvents(ics: string, edit: (event: EventEditor) => void, memo?: EditMemo): string {
  const obj = readObjectLines(ics);
  const editors: Editor[] = [];
  for (const comp of obj.components) {
    if (comp.name !== 'VEVENT') continue;
    const editor = new Editor(comp, comp.begin.eol === '\n' ? '\n' : '\r\n', memo);
    editors.push(editor);
    edit(editor);
  }
  if (editors.every((e) => e.touched.size === 0)) return ics;
  const out = obj.roots.map(rawOf).join('');
  verify(obj.uid, linesOf(obj.roots), out);
  return out;
}
