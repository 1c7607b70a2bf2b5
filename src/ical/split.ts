// A calendar file into stored objects, one per UID, each a complete VCALENDAR made of raw source lines.
import { invalid } from '../domain/errors.js';
import { paramValue, readLines } from './content-line.js';
import { type Comp, type Item, type PropItem, buildTree, childComps, clip, firstProp, rawOf, referencedTzids } from './structure.js';
import { type ComponentProblem, checkComponent, checkTimezone, componentUid, problem } from './validate.js';

/** Result of splitCalendar: one object per UID, and one problem per component that could not be taken. */
export interface SplitResult {
  objects: Array<{ uid: string; ics: string }>;
  problems: ComponentProblem[];
}

interface Group {
  uid: string;
  calendar: Comp; // the VCALENDAR the first component of this UID came from
  position: number; // that VCALENDAR's place in the file, from 1
  components: Array<{ comp: Comp; calendar: Comp }>;
  /** instanceKey → where the component that holds it is, so a second master is caught. */
  instances: Map<string, { line: number; position: number }>;
}

/** What makes two VCALENDARs' calendar-level lines the same (a byte order mark aside). */
function headKey(calendar: Comp): string {
  return [calendar.begin.raw.replace(/^\uFEFF/, ''), ...calendarProps(calendar), endOf(calendar)].join('\0');
}

/** The line break a calendar uses, for lines we have to add (a missing END:VCALENDAR). */
function eolOf(calendar: Comp): '\r\n' | '\n' {
  return calendar.begin.eol === '\n' ? '\n' : '\r\n';
}

/** The VCALENDAR's END line, or one in its line break style when the file lacks it. */
function endOf(calendar: Comp): string {
  return calendar.end ? calendar.end.raw : `END:VCALENDAR${eolOf(calendar)}`;
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

/** The key that tells components of one UID apart: their name and RECURRENCE-ID (none for a master). */
function instanceKey(comp: Comp): { key: string; label: string } {
  const rid = firstProp(comp, 'RECURRENCE-ID');
  if (!rid) return { key: comp.name, label: `master ${comp.name} (no RECURRENCE-ID)` };
  const tzid = paramValue(rid, 'TZID');
  return { key: `${comp.name}\0${tzid ?? ''}\0${rid.value}`, label: `${comp.name} with RECURRENCE-ID ${rid.value}` };
}

/**
 * Splits a VCALENDAR file (possibly several VCALENDARs concatenated) into one calendar object per UID, taking
 * one VCALENDAR at a time. Each object is a full VCALENDAR: the BEGIN line and calendar-level properties of its
 * own VCALENDAR (raw: METHOD, X-WR-*, … stay with the objects they came with), the VTIMEZONEs of that same
 * VCALENDAR its components reference (raw, in source order), all components with that UID (raw, in source
 * order: master, RECURRENCE-ID exceptions, also VTODO/VJOURNAL), and the source's END:VCALENDAR line.
 *
 * Components of one UID in several VCALENDARs become one object only when those VCALENDARs have the same
 * calendar-level lines (a master and its exceptions sent one VCALENDAR each), since nothing is lost then.
 *
 * Reported as problems (the rest still comes through): a component without UID or that cannot be parsed; a
 * VCALENDAR without END:VCALENDAR (its components still come through); a UID already taken from an earlier
 * VCALENDAR with other calendar-level lines; a second master (or a repeated RECURRENCE-ID) of one UID. The
 * first is kept and the later one left out, so no object gets two masters or another calendar's lines.
 *
 * @param name what to call the text in messages, e.g. the file's path.
 * @throws MmsError('Invalid') when the text is empty or holds no VCALENDAR at all.
 */
export function splitCalendar(text: string, name = 'the text'): SplitResult {
  const lines = readLines(text);
  const firstLine = lines.find((l) => l.text.replace(/^\uFEFF/, '').trim() !== '');
  if (!firstLine) throw invalid(`${name} is empty; export the calendar again as an .ics file and import that file`);
  const roots = buildTree(lines);
  const calendars = roots.filter((i): i is Comp => i.kind === 'comp' && i.name === 'VCALENDAR');
  if (!calendars.length) {
    const shown = clip(firstLine.text.replace(/^\uFEFF/, '').trim(), 40);
    throw invalid(`${name} is not an iCalendar file: line ${firstLine.lineNo} is "${shown}", and no line is BEGIN:VCALENDAR; export the calendar as .ics and import that file`);
  }
  const problems: ComponentProblem[] = [];
  for (const item of roots) {
    if (item.kind === 'comp' && item.name !== 'VCALENDAR') {
      problems.push(problem(componentUid(item), item.begin.lineNo, `BEGIN:${item.name} on line ${item.begin.lineNo} is outside any VCALENDAR`, 'put it inside BEGIN:VCALENDAR … END:VCALENDAR or export the calendar again'));
    }
  }
  // Text between or after the VCALENDARs (a mail body, a cut-off paste) is not stored; say so once.
  const stray = roots.filter((i): i is PropItem => i.kind === 'prop' && i.line.text.replace(/^\uFEFF/, '').trim() !== '');
  const firstStray = stray[0];
  if (firstStray) {
    const more = stray.length > 1 ? ` and ${stray.length - 1} more line${stray.length > 2 ? 's' : ''}` : '';
    problems.push(problem(null, firstStray.line.lineNo, `"${clip(firstStray.line.text)}"${more} outside any VCALENDAR ${more ? 'were' : 'was'} left out`, `remove ${more ? 'them' : 'it'}, or export the calendar again if ${more ? 'they belong' : 'it belongs'} to a meeting`));
  }

  const groups = new Map<string, Group>();
  const ownTimezones = new Map<Comp, Map<string, Comp>>(); // per VCALENDAR: a component only gets its own
  const tzOrder = new Map<Comp, number>();
  const reportedElsewhere = new Set<string>(); // `${VCALENDAR number}\0${uid}`: one line per UID and VCALENDAR
  let order = 0;
  calendars.forEach((calendar, c) => {
    const own = new Map<string, Comp>();
    ownTimezones.set(calendar, own);
    const position = c + 1;
    for (const comp of childComps(calendar)) {
      if (comp.name === 'VTIMEZONE') {
        const p = checkTimezone(comp);
        if (p) problems.push(p);
        const tzid = firstProp(comp, 'TZID')?.value;
        if (!p && tzid && !own.has(tzid)) own.set(tzid, comp);
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
      // A master and its exceptions sent as separate VCALENDARs with the same calendar lines (concatenated iTIP
      // messages, edits of one stored object) are one meeting and lose nothing when joined. Under other
      // calendar lines (another METHOD, X-WR-CALNAME, PRODID) joining would drop those lines: report it.
      if (group && group.calendar !== calendar && headKey(group.calendar) !== headKey(calendar)) {
        if (!reportedElsewhere.has(`${position}\0${uid}`)) {
          reportedElsewhere.add(`${position}\0${uid}`);
          const first = group.components[0]?.comp as Comp;
          problems.push(problem(uid, comp.begin.lineNo,
            `the same UID is in VCALENDAR ${group.position} of the file (${first.name} on line ${first.begin.lineNo}) and in VCALENDAR ${position} (${comp.name} on line ${comp.begin.lineNo}), under different calendar lines; only the first was imported`,
            'if the second is a newer version of the same meeting, import it as a file of its own to replace the first; if it is another meeting, give it a UID of its own'));
        }
        continue;
      }
      const { key, label } = instanceKey(comp);
      const twin = group?.instances.get(key);
      if (twin !== undefined) {
        const where = (line: number, at: number): string => (at === position && twin.position === position ? `line ${line}` : `line ${line} (VCALENDAR ${at})`);
        problems.push(problem(uid, comp.begin.lineNo,
          `the ${label} on ${where(comp.begin.lineNo, position)} repeats the one on ${where(twin.line, twin.position)}, and one meeting cannot hold two (RFC 5545 §3.8.4.7); only the first was imported`,
          'remove the older copy, or give the other meeting a UID of its own'));
        continue;
      }
      const instance = { line: comp.begin.lineNo, position };
      if (group) {
        group.components.push({ comp, calendar });
        group.instances.set(key, instance);
      } else groups.set(uid, { uid, calendar, position, components: [{ comp, calendar }], instances: new Map([[key, instance]]) });
    }
    for (const err of calendar.errors) {
      problems.push(problem(null, err.line, err.message, 'repair the file or export the calendar again'));
    }
  });

  const objects = [...groups.values()].map((g) => {
    // Each component's zones come from its own VCALENDAR (the first one that defines a TZID wins).
    const zones = new Map<string, Comp>();
    for (const { comp, calendar } of g.components) {
      for (const id of referencedTzids(comp)) {
        const zone = ownTimezones.get(calendar)?.get(id);
        if (zone && !zones.has(id)) zones.set(id, zone);
      }
    }
    const sorted = [...zones.values()].sort((a, b) => (tzOrder.get(a) as number) - (tzOrder.get(b) as number));
    const eol = eolOf(g.calendar);
    const pieces = [g.calendar.begin.raw, ...calendarProps(g.calendar), ...sorted.map(rawOf), ...g.components.map((x) => rawOf(x.comp)), endOf(g.calendar)];
    return { uid: g.uid, ics: concatRaw(pieces, eol) };
  });
  return { objects, problems };
}

/**
 * Joins stored objects back into one file. Objects whose VCALENDAR head is the same (BEGIN line,
 * calendar-level lines, END line) share one VCALENDAR: its head, each distinct VTIMEZONE once (by TZID, first
 * seen wins), then the objects' components in the given order. Objects with another head (another METHOD,
 * X-WR-CALNAME, PRODID, …) get a VCALENDAR of their own after it, so calendar-level lines stay with the
 * objects they came with. VCALENDARs follow in the order their first object is given. All lines are raw.
 *
 * For a file (or several concatenated) whose VTIMEZONEs come first and whose components of one UID are
 * contiguous (what Outlook, Google, Apple and Thunderbird export), joinCalendar(splitCalendar(x).objects.map(o
 * => o.ics)) === x byte for byte. Not preserved otherwise:
 * - lines before BEGIN:VCALENDAR or after END:VCALENDAR, and blank lines directly inside the VCALENDAR;
 * - the position of calendar-level properties written after a component (they move to the top);
 * - VTIMEZONEs no component references (dropped), and their order when objects reference them in a different
 *   order than the file lists them (first seen across the objects wins);
 * - the order of components when one UID's components are not contiguous (they are grouped by UID);
 * - two VCALENDARs with identical heads (they become one), and a byte order mark on any VCALENDAR but the first;
 * - components reported as problems by splitCalendar (they are not in any object).
 */
export function joinCalendar(objects: readonly string[]): string {
  if (!objects.length) throw invalid('joinCalendar: no calendar objects were given; pass at least one stored object');
  const byHead = new Map<string, { calendar: Comp; zones: Map<string, string>; components: string[] }>();
  objects.forEach((ics, n) => {
    const calendar = buildTree(readLines(ics)).find((i: Item): i is Comp => i.kind === 'comp' && i.name === 'VCALENDAR');
    if (!calendar) throw invalid(`joinCalendar: object ${n + 1} holds no BEGIN:VCALENDAR; pass stored calendar objects`);
    const key = headKey(calendar);
    let out = byHead.get(key);
    if (!out) byHead.set(key, (out = { calendar, zones: new Map(), components: [] }));
    for (const comp of childComps(calendar)) {
      if (comp.name !== 'VTIMEZONE') out.components.push(rawOf(comp));
      else {
        const tzid = firstProp(comp, 'TZID')?.value ?? '';
        if (!out.zones.has(tzid)) out.zones.set(tzid, rawOf(comp));
      }
    }
  });
  const files = [...byHead.values()].map(({ calendar, zones, components }, i) => {
    // A byte order mark belongs at the start of the file only.
    const begin = i === 0 ? calendar.begin.raw : calendar.begin.raw.replace(/^\uFEFF/, '');
    return concatRaw([begin, ...calendarProps(calendar), ...zones.values(), ...components, endOf(calendar)], eolOf(calendar));
  });
  return concatRaw(files, eolOf([...byHead.values()][0]!.calendar));
}
