// Content-line editing of stored objects. Only the lines an edit sets, adds or removes are written anew; every
// other line keeps its raw bytes, folding and line breaks included. The result is re-read by ical.js and
// compared with the input before it is returned.
import { invalid } from '../domain/errors.js';
import { type LogicalLine, type ParsedLine, paramRecord, paramValue, parseContentLine } from './content-line.js';
import { foldLine } from './fold.js';
import { readObjectLines } from './parse-object.js';
import { type Comp, type Item, type PropItem, childComps, rawOf } from './structure.js';
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
}

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
  ) {
    this.recurrenceId = this.props('RECURRENCE-ID')[0]?.parsed.value ?? null;
  }

  private props(name: string): Array<PropItem & { parsed: ParsedLine }> {
    return this.comp.items.filter((i): i is PropItem & { parsed: ParsedLine } => i.kind === 'prop' && i.parsed?.name === name);
  }

  private line(nameRaw: string, paramsText: string, value: string, textValued: boolean): PropItem {
    const text = `${nameRaw}${paramsText}:${textValued ? escapeText(value) : value.replace(/\r\n|\r|\n/g, ' ')}`;
    const parsed = parseContentLine(text);
    if (!parsed) throw invalid(`cannot write ${nameRaw}: the result "${text.slice(0, 60)}" is not a valid content line; check the parameters`);
    const line: LogicalLine = { raw: foldLine(text, this.eol) + this.eol, text, lineNo: 0, eol: this.eol };
    return { kind: 'prop', line, parsed };
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
    if (decodeValue(old) === value && paramsText === old.paramsRaw) return; // same meaning, other escaping: keep bytes
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

/** A component's items before the edit: raw text and property name (or '' for blank lines and subcomponents). */
interface Snapshot {
  name: string;
  raw: string[];
  names: string[];
}

/** The VCALENDAR's own lines (BEGIN, its properties, END), without its components. */
function calendarLines(calendar: Comp): string {
  return calendar.begin.raw + calendar.items.filter((i) => i.kind !== 'comp').map((i) => (i as PropItem).line.raw).join('') + (calendar.end?.raw ?? '');
}

/** The raw lines of a component an edit may not change: every property but the touched ones, and subcomponents. */
function kept(comp: Comp, touched: ReadonlySet<string>): string[] {
  return comp.items.flatMap((i) => {
    if (i.kind === 'comp') return [rawOf(i)];
    if (i.kind === 'prop' && i.parsed && touched.has(i.parsed.name)) return [];
    return [i.line.raw];
  });
}

/**
 * The check after an edit: the output reads again as one well-formed object with the same components, and
 * every line the edit did not touch — calendar-level lines, VTIMEZONEs, other components, and the untouched
 * properties and alarms of each edited VEVENT — is byte for byte what it was. (Comparing raw bytes is stricter
 * than comparing what ical.js reads, and costs a fraction of parsing the object with it twice.)
 */
function verify(uid: string, calendarBefore: string, before: ReadonlyArray<Snapshot>, after: string, touched: ReadonlyArray<ReadonlySet<string>>): void {
  const fail = (what: string): never => {
    throw invalid(`${uid}: the edited object differs from the original ${what}; this is a bug in the edit, report it with the object`);
  };
  // The values were checked when the object was read; what can go wrong now is the structure and the bytes.
  const again = readObjectLines(after, { checkValues: false });
  if (calendarLines(again.calendar) !== calendarBefore) fail('in its calendar-level lines');
  const comps = childComps(again.calendar);
  if (comps.length !== before.length) fail('in its number of components');
  let vevent = 0;
  comps.forEach((c, i) => {
    const b = before[i] as Snapshot;
    if (c.name !== b.name) fail(`in component ${i + 1}`);
    const skip = c.name === 'VEVENT' ? (touched[vevent++] ?? new Set<string>()) : new Set<string>();
    const a = kept(c, skip);
    const o = b.raw.filter((_, k) => !b.names[k] || !skip.has(b.names[k] as string));
    if (a.length !== o.length || a.some((x, k) => x !== o[k])) fail(`in an untouched line of its ${c.name} ${i + 1}`);
  });
}

/**
 * Edits every VEVENT of a stored object (master and exceptions, in order) through a content-line editor.
 * Lines the callback does not change keep their raw bytes; new lines are folded at 75 octets with the line
 * break style of the object. Returns the input unchanged (the same string) when nothing changed.
 *
 * @throws MmsError('Invalid') when the object does not parse, or when the result would not parse or would
 * differ from the input in a property the callback did not touch.
 */
export function editEvents(ics: string, edit: (event: EventEditor) => void): string {
  const obj = readObjectLines(ics);
  const before: Snapshot[] = childComps(obj.calendar).map((c) => ({
    name: c.name,
    raw: c.items.map((i) => (i.kind === 'comp' ? rawOf(i) : i.line.raw)),
    names: c.items.map((i) => (i.kind === 'prop' && i.parsed ? i.parsed.name : '')),
  }));
  const editors: Editor[] = [];
  for (const comp of obj.components) {
    if (comp.name !== 'VEVENT') continue;
    const editor = new Editor(comp, comp.begin.eol === '\n' ? '\n' : '\r\n');
    editors.push(editor);
    edit(editor);
  }
  if (editors.every((e) => e.touched.size === 0)) return ics;
  const out = obj.roots.map(rawOf).join('');
  verify(obj.uid, calendarLines(obj.calendar), before, out, editors.map((e) => e.touched));
  return out;
}
