// A calendar file into stored objects, one per UID, each a complete VCALENDAR made of raw source lines.
import { invalid } from '../domain/errors.js';
import { readLines } from './content-line.js';
import { type Comp, type Item, buildTree, childComps, firstProp, rawOf, referencedTzids } from './structure.js';
import { type ComponentProblem, checkComponent, checkTimezone, componentUid, problem } from './validate.js';

/** Result of splitCalendar: one object per UID, and one problem per component that could not be taken. */
export interface SplitResult {
  objects: Array<{ uid: string; ics: string }>;
  problems: ComponentProblem[];
}

interface Group {
  uid: string;
  calendar: Comp; // the VCALENDAR the first component of this UID came from
  components: Comp[];
}

/** The line break a calendar uses, for lines we have to add (a missing END:VCALENDAR). */
function eolOf(calendar: Comp): '\r\n' | '\n' {
  return calendar.begin.eol === '\n' ? '\n' : '\r\n';
}

/** Concatenates raw pieces, giving a piece without a final line break one (only happens in damaged files). */
export function concatRaw(pieces: string[], eol: string): string {
  let out = '';
  for (const p of pieces) {
    if (out !== '' && !out.endsWith('\n')) out += eol;
    out += p;
  }
  return out;
}

/** The calendar-level property lines of a VCALENDAR (VERSION, PRODID, METHOD, X-WR-*, …), raw. */
export function calendarProps(calendar: Comp): string[] {
  // A stray END line (reported as a problem) is not a property and is left out.
  return calendar.items.filter((i) => i.kind === 'prop' && i.parsed && i.parsed.name !== 'END').map(rawOf);
}

/**
 * Splits a VCALENDAR file (possibly several VCALENDARs concatenated) into one calendar object per UID. Each
 * object is a full VCALENDAR: the BEGIN line and calendar-level properties of its source (raw), the
 * VTIMEZONEs its components reference (raw, in source order), all components with that UID (raw, in source
 * order: master, RECURRENCE-ID exceptions, also VTODO/VJOURNAL), and the source's END:VCALENDAR line.
 * A component without UID, or that cannot be parsed, becomes a problem entry; the others still come through.
 * A VCALENDAR without END:VCALENDAR is also reported (its components still come through).
 *
 * @throws MmsError('Invalid') when the text holds no VCALENDAR at all.
 */
export function splitCalendar(text: string): SplitResult {
  const roots = buildTree(readLines(text));
  const calendars = roots.filter((i): i is Comp => i.kind === 'comp' && i.name === 'VCALENDAR');
  if (!calendars.length) {
    throw invalid('line 1: the file holds no BEGIN:VCALENDAR, so it is not an iCalendar file; export the calendar as .ics and import that file');
  }
  const problems: ComponentProblem[] = [];
  for (const item of roots) {
    if (item.kind === 'comp' && item.name !== 'VCALENDAR') {
      problems.push(problem(componentUid(item), item.begin.lineNo, `BEGIN:${item.name} on line ${item.begin.lineNo} is outside any VCALENDAR`, 'put it inside BEGIN:VCALENDAR … END:VCALENDAR or export the calendar again'));
    }
  }

  const groups = new Map<string, Group>();
  const timezones = new Map<string, Comp>(); // by TZID, first seen in the file wins
  const ownTimezones = new Map<Comp, Map<string, Comp>>(); // per VCALENDAR, preferred for its own components
  const tzOrder = new Map<Comp, number>();
  let order = 0;
  for (const calendar of calendars) {
    for (const comp of childComps(calendar)) {
      if (comp.name === 'VTIMEZONE') {
        const p = checkTimezone(comp);
        if (p) problems.push(p);
        const tzid = firstProp(comp, 'TZID')?.value;
        if (!p && tzid) {
          if (!timezones.has(tzid)) timezones.set(tzid, comp);
          const own = ownTimezones.get(calendar) ?? new Map<string, Comp>();
          if (!own.has(tzid)) own.set(tzid, comp);
          ownTimezones.set(calendar, own);
        }
        tzOrder.set(comp, order++);
        continue;
      }
      const p = checkComponent(comp);
      if (p) {
        problems.push(p);
        continue;
      }
      const uid = componentUid(comp) as string;
      const group = groups.get(uid);
      if (group) group.components.push(comp);
      else groups.set(uid, { uid, calendar, components: [comp] });
    }
    for (const err of calendar.errors) {
      problems.push(problem(null, err.line, err.message, 'repair the file or export the calendar again'));
    }
  }

  const objects = [...groups.values()].map((g) => {
    const tzids = new Set<string>();
    for (const c of g.components) referencedTzids(c, tzids);
    // A concatenated file may define one TZID differently in each VCALENDAR: the object's own wins.
    const own = ownTimezones.get(g.calendar);
    const zones = [...tzids]
      .map((id) => own?.get(id) ?? timezones.get(id))
      .filter((z): z is Comp => z !== undefined)
      .sort((a, b) => (tzOrder.get(a) as number) - (tzOrder.get(b) as number));
    const eol = eolOf(g.calendar);
    const end = g.calendar.end ? g.calendar.end.raw : `END:VCALENDAR${eol}`;
    const pieces = [g.calendar.begin.raw, ...calendarProps(g.calendar), ...zones.map(rawOf), ...g.components.map(rawOf), end];
    return { uid: g.uid, ics: concatRaw(pieces, eol) };
  });
  return { objects, problems };
}

/**
 * Joins stored objects back into one VCALENDAR: the BEGIN line and calendar-level lines of the first object,
 * each distinct VTIMEZONE once (by TZID, first seen wins), then every object's components in the given order,
 * then the first object's END:VCALENDAR line. All lines are raw.
 *
 * For a file whose VTIMEZONEs come first and whose components of one UID are contiguous (what Outlook,
 * Google, Apple and Thunderbird export), joinCalendar(splitCalendar(x).objects.map(o => o.ics)) === x byte
 * for byte. Not preserved otherwise:
 * - lines before BEGIN:VCALENDAR or after END:VCALENDAR, and blank lines directly inside the VCALENDAR;
 * - the position of calendar-level properties written after a component (they move to the top);
 * - VTIMEZONEs no component references (dropped), and their order when objects reference them in a different
 *   order than the file lists them (first seen across the objects wins);
 * - the order of components when one UID's components are not contiguous (they are grouped by UID);
 * - several concatenated VCALENDARs (they become one, with the first one's calendar-level properties);
 * - components reported as problems by splitCalendar (they are not in any object).
 */
export function joinCalendar(objects: readonly string[]): string {
  if (!objects.length) throw invalid('joinCalendar: no calendar objects were given; pass at least one stored object');
  let head: Comp | null = null;
  const zones = new Map<string, string>();
  const components: string[] = [];
  objects.forEach((ics, n) => {
    const calendar = buildTree(readLines(ics)).find((i: Item): i is Comp => i.kind === 'comp' && i.name === 'VCALENDAR');
    if (!calendar) throw invalid(`joinCalendar: object ${n + 1} holds no BEGIN:VCALENDAR; pass stored calendar objects`);
    head ??= calendar;
    for (const comp of childComps(calendar)) {
      if (comp.name !== 'VTIMEZONE') components.push(rawOf(comp));
      else {
        const tzid = firstProp(comp, 'TZID')?.value ?? '';
        if (!zones.has(tzid)) zones.set(tzid, rawOf(comp));
      }
    }
  });
  const first = head as unknown as Comp;
  const eol = eolOf(first);
  const end = first.end ? first.end.raw : `END:VCALENDAR${eol}`;
  return concatRaw([first.begin.raw, ...calendarProps(first), ...zones.values(), ...components, end], eol);
}
