// Checks that decide whether a component can be stored and read. ical.js is lenient about values (it turns
// DTSTART:garbage into a nonsense date without complaint), so date, rule and duration values are checked
// here, and ical.js's own parse must succeed as well.
import { ICAL } from './setup.js';
import { type Comp, clip, firstProp, propsOf, rawOf } from './structure.js';
import { paramValue } from './content-line.js';
import { unescapeText } from './text-codec.js';

/** Something wrong with one component of a file: a problem entry of splitCalendar, or an indexObject error. */
export interface ComponentProblem {
  uid: string | null;
  /** 1-based line of the source where the problem is (or where the component begins). */
  line: number;
  /** One line: `<uid or line N>: <what is wrong>; <how to fix>`. */
  message: string;
}

export function problem(uid: string | null, line: number, what: string, fix: string): ComponentProblem {
  return { uid, line, message: `${uid ?? `line ${line}`}: ${what}; ${fix}` };
}

/** The component's UID (TEXT-decoded), or null. */
export function componentUid(comp: Comp): string | null {
  const uid = firstProp(comp, 'UID');
  const value = uid ? unescapeText(uid.value).trim() : '';
  return value === '' ? null : value;
}

const DATE_RE = /^(\d{4})(\d{2})(\d{2})$/;
const DATE_TIME_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z?$/;
const DURATION_RE = /^[+-]?P(?:\d+W|(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$/;

function realDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** RFC 5545 §3.3.4 / §3.3.5: YYYYMMDD or YYYYMMDDTHHMMSS[Z], with a real calendar date and clock time. */
function validDateOrDateTime(value: string, type: string | undefined): boolean {
  const dm = type !== 'DATE-TIME' ? DATE_RE.exec(value) : null;
  if (dm) return realDate(Number(dm[1]), Number(dm[2]), Number(dm[3]));
  const tm = type !== 'DATE' ? DATE_TIME_RE.exec(value) : null;
  if (!tm) return false;
  return realDate(Number(tm[1]), Number(tm[2]), Number(tm[3])) && Number(tm[4]) < 24 && Number(tm[5]) < 60 && Number(tm[6]) <= 60;
}

function validPeriod(value: string): boolean {
  const [start, end, extra] = value.split('/');
  if (extra !== undefined || !start || !end) return false;
  return validDateOrDateTime(start, 'DATE-TIME') && (DURATION_RE.test(end) ? end !== 'P' && end !== 'PT' : validDateOrDateTime(end, 'DATE-TIME'));
}

const DATE_PROPS = new Set(['DTSTART', 'DTEND', 'DUE', 'RECURRENCE-ID', 'EXDATE', 'RDATE']);
const DATE_FIX = 'write it as YYYYMMDD or YYYYMMDDTHHMMSS (RFC 5545 §3.3.4, §3.3.5) or export the meeting again';

const MAX_MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A rule whose BYMONTHDAY fits none of its BYMONTH months (BYMONTH=2;BYMONTHDAY=30) never produces an
 * occurrence, and ical.js's iterator would search for one forever under FREQ=DAILY or finer, with no
 * iteration cap of ours able to stop it. Such rules are rejected up front.
 */
function neverOccurs(rule: string): boolean {
  const part = (name: string): number[] | null => {
    const m = new RegExp(`(?:^|;)${name}=([^;]*)`, 'i').exec(rule);
    return m?.[1] ? m[1].split(',').map(Number) : null;
  };
  const days = part('BYMONTHDAY');
  if (!days) return false;
  const months = part('BYMONTH') ?? [1, 3];
  const longest = Math.max(...months.map((m) => MAX_MONTH_DAYS[m - 1] ?? 31));
  return days.every((d) => Math.abs(d) > longest || d === 0);
}

/** Value-level checks of the component's own properties. Returns the first problem. */
function checkValues(comp: Comp, uid: string | null): ComponentProblem | null {
  for (const { line, parsed } of propsOf(comp)) {
    if (!parsed) continue;
    const at = `line ${line.lineNo}`;
    if (DATE_PROPS.has(parsed.name)) {
      const type = paramValue(parsed, 'VALUE')?.toUpperCase();
      for (const v of parsed.value.split(',')) {
        const ok = type === 'PERIOD' || (parsed.name === 'RDATE' && v.includes('/')) ? validPeriod(v) : validDateOrDateTime(v, type);
        if (!ok) {
          return problem(uid, line.lineNo, `${parsed.name} value "${clip(v, 40)}" on ${at} is not a valid ${type === 'DATE' ? 'date' : 'date-time'}`, `correct the ${parsed.name} line: ${DATE_FIX}`);
        }
      }
    } else if (parsed.name === 'RRULE') {
      let ok = /(^|;)FREQ=/i.test(parsed.value) && !neverOccurs(parsed.value);
      try {
        ICAL.Recur.fromString(parsed.value);
      } catch {
        ok = false;
      }
      if (!ok) {
        return problem(uid, line.lineNo, `RRULE "${clip(parsed.value, 50)}" on ${at} is not a valid recurrence rule`, 'correct it per RFC 5545 §3.3.10 (for example FREQ=WEEKLY;BYDAY=MO;COUNT=10) or export the meeting again');
      }
    } else if (parsed.name === 'DURATION') {
      if (!DURATION_RE.test(parsed.value) || /^[+-]?PT?$/.test(parsed.value)) {
        return problem(uid, line.lineNo, `DURATION "${clip(parsed.value, 30)}" on ${at} is not a valid duration`, 'write it per RFC 5545 §3.3.6 (for example PT1H30M) or export the meeting again');
      }
    }
  }
  return null;
}

/**
 * Whether a calendar component (VEVENT, VTODO, VJOURNAL, …; not VTIMEZONE) can be stored and read: the
 * structure is intact, it has a UID, a VEVENT has a DTSTART, date/rule/duration values are well-formed, and
 * ical.js parses it. Returns the first problem, or null.
 */
export function checkComponent(comp: Comp, icalParse = true): ComponentProblem | null {
  const uid = componentUid(comp);
  const first = comp.errors[0];
  if (first) return problem(uid, first.line, first.message, 'repair the file or export the calendar again');
  if (!uid) {
    return problem(null, comp.begin.lineNo, `${comp.name} beginning on line ${comp.begin.lineNo} has no UID`, 'add a UID property (RFC 5545 §3.8.4.7) or export the calendar again');
  }
  if (comp.name === 'VEVENT' && !firstProp(comp, 'DTSTART')) {
    return problem(uid, comp.begin.lineNo, `VEVENT beginning on line ${comp.begin.lineNo} has no DTSTART`, 'add a DTSTART property (RFC 5545 §3.6.1) or export the meeting again');
  }
  const bad = checkValues(comp, uid);
  if (bad) return bad;
  return icalParse ? checkIcalParse(comp, uid) : null;
}

/** A VTIMEZONE needs a TZID and must parse. */
export function checkTimezone(comp: Comp, icalParse = true): ComponentProblem | null {
  const first = comp.errors[0];
  if (first) return problem(null, first.line, first.message, 'repair the file or export the calendar again');
  if (!firstProp(comp, 'TZID')) {
    return problem(null, comp.begin.lineNo, `VTIMEZONE beginning on line ${comp.begin.lineNo} has no TZID`, 'add a TZID property (RFC 5545 §3.8.3.1) or export the calendar again');
  }
  return icalParse ? checkIcalParse(comp, null) : null;
}

function checkIcalParse(comp: Comp, uid: string | null): ComponentProblem | null {
  try {
    ICAL.parse(rawOf(comp));
    return null;
  } catch (e) {
    return problem(uid, comp.begin.lineNo, `${comp.name} beginning on line ${comp.begin.lineNo} does not parse (${clip(e instanceof Error ? e.message : String(e), 80)})`, 'repair the file or export the calendar again');
  }
}
