// Reading one stored calendar object (one UID): our own line-level tree for raw bytes and text values, and
// ical.js's parse of the same text for dates and recurrence, with time zones prepared per object.
import { invalid, MmsError } from '../domain/errors.js';
import { ICAL } from './setup.js';
import { readLines } from './content-line.js';
import { type Comp, type Item, buildTree, childComps, clip, propsOf, rawOf, referencedTzids } from './structure.js';
import { checkComponent, checkTimezone, componentUid } from './validate.js';
import { prepareZones } from './zones.js';

type IcalComponent = InstanceType<typeof ICAL.Component>;

export interface ParsedObject {
  uid: string;
  /** Top-level items of the text: the VCALENDAR, plus any blank lines around it. */
  roots: Item[];
  calendar: Comp;
  /** VEVENT / VTODO / VJOURNAL / … components, in order. */
  components: Comp[];
  /** ical.js's view of each entry of `components` (same order). */
  icalComponents: IcalComponent[];
  /** ical.js's root VCALENDAR. */
  icalRoot: IcalComponent;
  /** TZIDs referenced by the object that neither a usable VTIMEZONE nor the name resolves; their times read as UTC. */
  unknownZones: string[];
}

/** The text without a leading byte order mark, which ical.js would read as part of the first line's name. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Names the object in an error message: its UID when we know it, else a line. */
function who(uid: string | null, line = 1): string {
  return uid ?? `line ${line}`;
}

// Lines ical.js needs to know when and how often a component happens. See `parseObject`'s `mode`.
const TIME_PROPS = new Set(['DTSTART', 'DTEND', 'DUE', 'DURATION', 'RRULE', 'RDATE', 'EXDATE', 'RECURRENCE-ID', 'STATUS', 'UID']);

// Whether ical.js (2.x) keeps a per-tree time zone cache we can fill (see zones.ts). If not, the reduced text
// must carry the VTIMEZONEs themselves.
const treeCacheWorks = (new ICAL.Component('vcalendar') as unknown as { _timezoneCache?: unknown })._timezoneCache instanceof Map;

/** The text ical.js reads in 'times' mode: each component with only its TIME_PROPS lines. */
function timesOnly(components: Comp[], timezones: Comp[]): string {
  const out = ['BEGIN:VCALENDAR'];
  if (!treeCacheWorks) for (const tz of timezones) out.push(...readLines(rawOf(tz)).map((l) => l.text));
  for (const c of components) {
    out.push(c.begin.text);
    for (const p of propsOf(c)) if (p.parsed && TIME_PROPS.has(p.parsed.name)) out.push(p.line.text);
    out.push(`END:${c.name}`);
  }
  out.push('END:VCALENDAR');
  return out.join('\r\n');
}

/** One calendar object read by our own line reader only: enough to edit it line by line. */
export interface ObjectLines {
  uid: string;
  /** Top-level items of the text: the VCALENDAR, plus any blank lines around it. */
  roots: Item[];
  calendar: Comp;
  /** VEVENT / VTODO / VJOURNAL / … components, in order. */
  components: Comp[];
  timezones: Comp[];
}

/**
 * Reads one calendar object with our own line reader and checks its shape: exactly one well-formed VCALENDAR
 * holding components of one UID, each with a UID (and a VEVENT a DTSTART), values that read. No ical.js: an
 * edit needs the lines, not the meaning, and this is the hot path of a migration.
 */
export function readObjectLines(ics: string, opts: { checkValues?: boolean } = {}): ObjectLines {
  const roots = buildTree(readLines(ics));
  const calendars = roots.filter((i): i is Comp => i.kind === 'comp');
  const calendar = calendars[0];
  if (!calendar || calendar.name !== 'VCALENDAR') {
    throw invalid('line 1: this is not an iCalendar object (no BEGIN:VCALENDAR); pass the text of a stored .ics object');
  }
  const guessUid = childComps(calendar).map(componentUid).find((u) => u !== null) ?? null;
  if (calendars.length > 1) {
    throw invalid(`${who(guessUid)}: the text holds ${calendars.length} top-level components, expected one VCALENDAR; split the file with splitCalendar first`);
  }
  const stray = roots.find((i) => i.kind === 'prop');
  if (stray && stray.kind === 'prop') {
    throw invalid(`${who(guessUid, stray.line.lineNo)}: line ${stray.line.lineNo} "${clip(stray.line.text)}" is outside the VCALENDAR; remove it`);
  }
  const calError = calendar.errors[0];
  if (calError) throw invalid(`${who(guessUid, calError.line)}: ${calError.message}; repair the object or import it again`);

  const components: Comp[] = [];
  const timezones: Comp[] = [];
  for (const comp of childComps(calendar)) {
    const p = opts.checkValues === false ? null : comp.name === 'VTIMEZONE' ? checkTimezone(comp, false) : checkComponent(comp, false);
    if (p) throw invalid(p.message);
    (comp.name === 'VTIMEZONE' ? timezones : components).push(comp);
  }
  const first = components[0];
  if (!first) throw invalid(`line ${calendar.begin.lineNo}: the VCALENDAR holds no VEVENT, VTODO or VJOURNAL; store one meeting per object`);
  const uid = componentUid(first) as string; // checkComponent guarantees a UID
  const other = components.map(componentUid).find((u) => u !== uid);
  if (other !== undefined) {
    throw invalid(`${uid}: the object also holds UID ${other}; store one UID per object (use splitCalendar)`);
  }
  return { uid, roots, calendar, components, timezones };
}

/**
 * Parses one calendar object. Throws MmsError('Invalid') with a one-line message when it is not exactly one
 * well-formed VCALENDAR holding components of one UID that ical.js can read.
 *
 * `mode` 'full' has ical.js parse the whole text. 'times' hands ical.js only the lines that carry time meaning
 * (DTSTART, DTEND, DUE, DURATION, RRULE, RDATE, EXDATE, RECURRENCE-ID, STATUS): indexing runs on every stored
 * object, and parsing a long HTML X-ALT-DESC that nobody reads through ical.js was most of its cost. Every other
 * line is still checked by our own reader, and splitCalendar has ical.js parse each component in full when the
 * object is first stored.
 */
export function parseObject(ics: string, mode: 'full' | 'times' = 'full'): ParsedObject {
  const { uid, roots, calendar, components, timezones } = readObjectLines(ics);
  let icalRoot: IcalComponent;
  try {
    icalRoot = new ICAL.Component(ICAL.parse(mode === 'full' ? withoutBom(ics) : timesOnly(components, timezones)) as unknown[]);
  } catch (e) {
    throw invalid(`${uid}: ical.js cannot parse the object (${clip(e instanceof Error ? e.message : String(e), 80)}); repair the object or import it again`);
  }
  const icalComponents = icalRoot.getAllSubcomponents().filter((c) => c.name !== 'vtimezone');
  if (icalComponents.length !== components.length || icalComponents.some((c, i) => c.name.toUpperCase() !== components[i]?.name)) {
    throw invalid(`${uid}: ical.js reads a different component structure than the text shows; repair the object or import it again`);
  }
  const referenced = new Set<string>();
  for (const c of components) referencedTzids(c, referenced);
  let unknownZones: string[];
  try {
    unknownZones = prepareZones(icalRoot, timezones, referenced);
  } catch (e) {
    throw invalid(`${uid}: a VTIMEZONE cannot be read (${clip(e instanceof Error ? e.message : String(e), 80)}); repair it or import the object again`);
  }
  return { uid, roots, calendar, components, icalComponents, icalRoot, unknownZones };
}

/** Runs ical.js-touching code and turns any non-MmsError into MmsError('Invalid') naming the object. */
export function guard<T>(uid: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MmsError) throw e;
    throw invalid(`${uid}: ${what} (${clip(e instanceof Error ? e.message : String(e), 80)}); repair the object or import it again`);
  }
}
