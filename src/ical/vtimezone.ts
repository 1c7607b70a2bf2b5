// VTIMEZONE generation from Intl (RFC 5545 §3.6.5), in the shape Outlook writes: one STANDARD and one
// DAYLIGHT observance with a yearly RRULE, or a single STANDARD for a zone without daylight saving time.
import { isIanaZone, offsetAt } from './intl-zone.js';
import { foldLine } from './fold.js';

const DAY = 86_400_000;
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;

interface Transition {
  at: number; // UTC instant
  from: number; // offset before, ms
  to: number; // offset after, ms
}

/** All offset changes of a zone within one calendar year (UTC), found by daily sampling then bisection. */
function transitionsIn(tzid: string, year: number): Transition[] {
  const out: Transition[] = [];
  const end = Date.UTC(year + 1, 0, 1);
  let t = Date.UTC(year, 0, 1);
  let off = offsetAt(tzid, t);
  while (t < end) {
    const next = Math.min(t + DAY, end);
    const nextOff = offsetAt(tzid, next);
    if (nextOff !== off) {
      let lo = t;
      let hi = next;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (offsetAt(tzid, mid) === off) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, from: off, to: nextOff });
      off = nextOff;
    }
    t = next;
  }
  return out;
}

function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const total = Math.abs(ms) / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return sign + two(h) + two(m) + (s ? two(s) : '');
}

/** Wall-clock DATE-TIME (no Z) of a UTC-based millisecond value, e.g. 19701025T030000. */
export function formatWall(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '');
}

/**
 * An abbreviation such as PST or CEST for TZNAME (optional in RFC 5545 §3.8.3.2). en-US knows the American
 * ones, en-GB the European ones; a bare "GMT+9" says nothing the offsets do not, so it is left out.
 */
function shortName(tzid: string, at: number): string | null {
  for (const locale of ['en-US', 'en-GB']) {
    try {
      const parts = new Intl.DateTimeFormat(locale, { timeZone: tzid, timeZoneName: 'short' }).formatToParts(at);
      const name = parts.find((p) => p.type === 'timeZoneName')?.value;
      if (name && !/^(GMT|UTC)[+-−]/.test(name)) return name;
    } catch {
      return null;
    }
  }
  return null;
}

/** The n-th (or last, n = -1) given weekday of a month, as a UTC day number. */
function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month, 1)).getUTCDay();
    return Date.UTC(year, month, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7);
  }
  const lastDay = new Date(Date.UTC(year, month + 1, 0));
  const back = (lastDay.getUTCDay() - weekday + 7) % 7;
  return lastDay.getTime() - back * DAY;
}

/** One observance with a yearly rule taken from this year's transition (e.g. "last Sunday of March"). */
function ruleObservance(tzid: string, tr: Transition): string[] {
  const local = tr.at + tr.from; // wall clock time of the change, on the clock before it
  const d = new Date(local);
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  const weekday = d.getUTCDay();
  const daysInMonth = new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate();
  const n = day + 7 > daysInMonth ? -1 : Math.ceil(day / 7);
  // DTSTART is the rule's first occurrence in 1970, so the rule covers any date a meeting could have.
  const timeOfDay = local - Date.UTC(d.getUTCFullYear(), month, day);
  const start = nthWeekday(1970, month, weekday, n) + timeOfDay;
  const kind = tr.to > tr.from ? 'DAYLIGHT' : 'STANDARD';
  const name = shortName(tzid, tr.at + 1000);
  return [
    `BEGIN:${kind}`,
    `DTSTART:${formatWall(start)}`,
    `RRULE:FREQ=YEARLY;BYMONTH=${month + 1};BYDAY=${n}${WEEKDAYS[weekday]}`,
    `TZOFFSETFROM:${formatOffset(tr.from)}`,
    `TZOFFSETTO:${formatOffset(tr.to)}`,
    ...(name ? [`TZNAME:${name}`] : []),
    `END:${kind}`,
  ];
}

/** A one-off observance starting at a transition (used when the year's changes are not a DST pair). */
function fixedObservance(tzid: string, start: number, from: number, to: number): string[] {
  const name = shortName(tzid, start + 1000);
  return [
    'BEGIN:STANDARD',
    `DTSTART:${formatWall(start + from)}`,
    `TZOFFSETFROM:${formatOffset(from)}`,
    `TZOFFSETTO:${formatOffset(to)}`,
    ...(name ? [`TZNAME:${name}`] : []),
    'END:STANDARD',
  ];
}

const cache = new Map<string, string | null>();

/**
 * A VTIMEZONE for an IANA zone, derived from Intl for the rules in force in `year`: STANDARD and DAYLIGHT
 * with yearly RRULEs (BYMONTH=3;BYDAY=-1SU style) when the zone observes daylight saving time that year, a
 * single STANDARD otherwise (or one STANDARD per offset when the zone changed its offset for good that
 * year). Observances start in 1970. Lines end with CRLF, including the last.
 *
 * @returns the VTIMEZONE text, or null when Intl does not know the zone.
 */
export function vtimezoneFor(tzid: string, year: number): string | null {
  const key = `${tzid}\u0000${year}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let result: string | null = null;
  if (isIanaZone(tzid) && Number.isInteger(year) && year >= 1970 && year <= 9999) {
    const trs = transitionsIn(tzid, year);
    const lines = ['BEGIN:VTIMEZONE', `TZID:${tzid}`];
    const [a, b] = trs;
    if (trs.length === 2 && a && b && a.to === b.from && b.to === a.from) {
      lines.push(...ruleObservance(tzid, a), ...ruleObservance(tzid, b));
    } else {
      const startOffset = offsetAt(tzid, Date.UTC(year, 0, 1));
      lines.push(...fixedObservance(tzid, Date.UTC(1970, 0, 1) - startOffset, startOffset, startOffset));
      for (const tr of trs) lines.push(...fixedObservance(tzid, tr.at, tr.from, tr.to));
    }
    lines.push('END:VTIMEZONE');
    result = lines.map((l) => foldLine(l) + '\r\n').join('');
  }
  cache.set(key, result);
  return result;
}
