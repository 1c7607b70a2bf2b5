// The component tree of an iCalendar text (RFC 5545 §3.4, §3.6), built from logical lines without losing a
// byte: a component is its BEGIN line, its items in order and its END line, each with its raw text.
import { type LogicalLine, type ParsedLine, parseContentLine, readLines } from './content-line.js';

/** A problem found while reading the structure, attached to the component it spoils. */
export interface StructureError {
  line: number;
  message: string;
}

export interface PropItem {
  kind: 'prop';
  line: LogicalLine;
  /** null when the line is not a content line at all. */
  parsed: ParsedLine | null;
}
export interface BlankItem {
  kind: 'blank';
  line: LogicalLine;
}
export interface Comp {
  kind: 'comp';
  /** Upper-case component name (VEVENT, VTIMEZONE, …). */
  name: string;
  begin: LogicalLine;
  items: Item[];
  /** null when the text ends (or the parent ends) before END:name. */
  end: LogicalLine | null;
  /** Problems inside this component or its subcomponents (only set on top-level and direct child components). */
  errors: StructureError[];
}
export type Item = PropItem | BlankItem | Comp;

// Components that only ever sit directly in a VCALENDAR (RFC 5545 §3.6). Seeing BEGIN of one of them while
// another component is still open means that one was cut off; closing it there keeps the next one intact.
const CALENDAR_CHILDREN = new Set(['VEVENT', 'VTODO', 'VJOURNAL', 'VFREEBUSY', 'VTIMEZONE', 'VAVAILABILITY']);

/** Reads a text into top-level items (normally one VCALENDAR per calendar in the file). */
export function readTree(text: string): Item[] {
  return buildTree(readLines(text));
}

/** Builds the component tree. Never throws: damage is recorded in `errors` of the component it affects. */
export function buildTree(lines: LogicalLine[]): Item[] {
  const roots: Item[] = [];
  const stack: Comp[] = [];
  // Problems belong to the VCALENDAR's direct child (so that child becomes a problem entry and its siblings
  // survive), or to the top-level component when nothing deeper is open.
  const owner = (): Comp | undefined => stack[1] ?? stack[0];
  const append = (item: Item): void => {
    const top = stack[stack.length - 1];
    if (top) top.items.push(item);
    else roots.push(item);
  };
  const closeUnterminated = (downTo: number, at: LogicalLine): void => {
    while (stack.length > downTo) {
      const comp = stack.pop() as Comp;
      const target = stack.length >= 1 ? (stack[1] ?? comp) : comp;
      target.errors.push({
        line: comp.begin.lineNo,
        message: `BEGIN:${comp.name} on line ${comp.begin.lineNo} has no END:${comp.name} before ${at.lineNo ? `line ${at.lineNo}` : 'the end of the file'} (the file looks truncated)`,
      });
    }
  };

  for (const line of lines) {
    if (line.text === '') {
      append({ kind: 'blank', line });
      continue;
    }
    const parsed = parseContentLine(line.text);
    if (parsed?.name === 'BEGIN') {
      const name = parsed.value.trim().toUpperCase();
      if (name === 'VCALENDAR' && stack.length > 0) closeUnterminated(0, line);
      else if (CALENDAR_CHILDREN.has(name) && stack.length > 1) closeUnterminated(1, line);
      const comp: Comp = { kind: 'comp', name, begin: line, items: [], end: null, errors: [] };
      append(comp);
      stack.push(comp);
      continue;
    }
    if (parsed?.name === 'END') {
      const name = parsed.value.trim().toUpperCase();
      let idx = stack.length - 1;
      while (idx >= 0 && (stack[idx] as Comp).name !== name) idx--;
      if (idx >= 0) {
        closeUnterminated(idx + 1, line);
        (stack.pop() as Comp).end = line;
        continue;
      }
      owner()?.errors.push({ line: line.lineNo, message: `END:${name} on line ${line.lineNo} has no matching BEGIN:${name}` });
      append({ kind: 'prop', line, parsed });
      continue;
    }
    if (!parsed) {
      owner()?.errors.push({
        line: line.lineNo,
        message: `line ${line.lineNo} "${clip(line.text)}" is not a content line (expected NAME;PARAM=…:VALUE)`,
      });
    }
    append({ kind: 'prop', line, parsed });
  }
  closeUnterminated(0, { raw: '', text: '', lineNo: 0, eol: '' });
  return roots;
}

/** Shortens a line for an error message, keeping it on one line. */
export function clip(text: string, max = 60): string {
  const one = text.replace(/[\r\n]+/g, ' ');
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}

/** The exact source text of an item (a component: BEGIN, everything inside, END). */
export function rawOf(item: Item): string {
  if (item.kind !== 'comp') return item.line.raw;
  let out = item.begin.raw;
  for (const child of item.items) out += rawOf(child);
  return item.end ? out + item.end.raw : out;
}

/** Property lines directly inside a component (not inside its subcomponents). */
export function propsOf(comp: Comp): PropItem[] {
  return comp.items.filter((i): i is PropItem => i.kind === 'prop' && i.parsed !== null);
}

/** The first property of that (upper-case) name directly inside a component. */
export function firstProp(comp: Comp, name: string): ParsedLine | undefined {
  for (const item of comp.items) if (item.kind === 'prop' && item.parsed?.name === name) return item.parsed;
  return undefined;
}

/** Direct subcomponents. */
export function childComps(comp: Comp): Comp[] {
  return comp.items.filter((i): i is Comp => i.kind === 'comp');
}

/** Every TZID parameter used by properties of a component and its subcomponents. */
export function referencedTzids(comp: Comp, into: Set<string> = new Set()): Set<string> {
  for (const item of comp.items) {
    if (item.kind === 'comp') referencedTzids(item, into);
    else if (item.kind === 'prop' && item.parsed) {
      for (const p of item.parsed.params) if (p.name === 'TZID' && p.values[0]) into.add(p.values[0]);
    }
  }
  return into;
}
