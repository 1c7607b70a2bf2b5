// Expansion of a series into occurrences (RFC 5545 §3.8.5): DTSTART, RRULE and RDATE instances minus EXDATEs,
// with RECURRENCE-ID exceptions replacing (moving or cancelling) their instance. ical.js iterates each RRULE;
// merging, exclusion and exceptions are done here, which keeps the iteration count under our control.
import { ICAL } from './setup.js';
import type { ParsedObject } from './parse-object.js';
import { isIanaZone, wallToEpoch } from './intl-zone.js';

type Time = InstanceType<typeof ICAL.Time>;
type IcalComponent = InstanceType<typeof ICAL.Component>;

/**
 * Most RRULE iterations one call may spend. A daily meeting for 100 years is ~36,500, so real series fit; a
 * rule beyond the cap (FREQ=MINUTELY for a year) is treated as never ending: lastEnd is null, and
 * occurrencesBetween returns what it found within the cap.
 */
export const MAX_RECURRENCE_ITERATIONS = 50_000;

const DAY_MS = 86_400_000;

// Times are read with ical.js: UTC (Z) as UTC, a TZID through the object's VTIMEZONE (or Intl for an IANA or
// Windows name; see zones.ts), a TZID nobody can resolve as UTC (the object lists it in unknownZones).
// Floating times and DATE values (all-day) carry no zone of their own: RFC 5545 §3.3.5 reads them in the time
// zone of whoever looks at them, and for a stored meeting that is its organizer (see TimeReader).

/**
 * Turns the times of one object into instants. Floating times (no TZID, no Z) and DATE values are read as wall
 * clock in `floatingZone` (an IANA name; the organizer's zone), and the reader notes that it met one: the
 * object's instants then depend on that zone, and must be derived again when it changes.
 */
export class TimeReader {
  /** Whether any time read so far was floating (or a DATE). */
  floating = false;

  constructor(readonly floatingZone = 'UTC') {
    if (!isIanaZone(floatingZone)) throw new Error(`time zone "${floatingZone}" is not an IANA zone Intl knows; pass an IANA name such as America/Los_Angeles`);
  }

  readonly ms = (t: Time): number => {
    if (t.isDate || t.zone === ICAL.Timezone.localTimezone) {
      this.floating = true;
      const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
      return this.floatingZone === 'UTC' ? wall : wallToEpoch(this.floatingZone, wall);
    }
    return t.toUnixTime() * 1000;
  };
}

const dateKey = (t: Time): number => t.year * 10_000 + t.month * 100 + t.day;

interface Instance {
  start: number;
  day: number; // wall-clock date of the instance in its own zone, for DATE-valued EXDATE / RECURRENCE-ID
}

export interface ExceptionSpan {
  recurrenceId: number;
  ridIsDate: boolean;
  ridDay: number;
  start: number;
  end: number;
  cancelled: boolean;
}

export interface Series {
  master: {
    comp: IcalComponent;
    dtstart: Time;
    start: number;
    end: number;
    duration: number;
    cancelled: boolean;
  } | null;
  recurring: boolean;
  /** Some RRULE has neither COUNT nor UNTIL. */
  infinite: boolean;
  exceptions: ExceptionSpan[];
  /** How this series' times become instants. */
  reader: TimeReader;
}

const isCancelled = (c: IcalComponent): boolean => String(c.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';

/** Start and end (epoch ms) of one component, or null when it has no DTSTART. */
function spanOf(c: IcalComponent, ms: (t: Time) => number): { dtstart: Time; start: number; end: number } | null {
  const dtstart = c.getFirstPropertyValue('dtstart') as Time | null;
  if (!dtstart) return null;
  const start = ms(dtstart);
  const endTime = c.getFirstPropertyValue(c.name === 'vtodo' ? 'due' : 'dtend') as Time | null;
  let end: number;
  if (endTime) end = ms(endTime);
  else {
    const duration = c.getFirstPropertyValue('duration') as InstanceType<typeof ICAL.Duration> | null;
    // RFC 5545 §3.6.1: without DTEND or DURATION an all-day event lasts one day, a timed one no time.
    end = duration ? start + duration.toSeconds() * 1000 : dtstart.isDate ? start + DAY_MS : start;
  }
  return { dtstart, start, end: Math.max(start, end) };
}

/**
 * The series of a parsed object: its master (the component without RECURRENCE-ID) and its exceptions, with
 * floating times read by `reader` (UTC by default).
 */
export function seriesOf(obj: ParsedObject, reader: TimeReader = new TimeReader()): Series {
  const ms = reader.ms;
  let master: Series['master'] = null;
  const exceptions: ExceptionSpan[] = [];
  let recurring = false;
  let infinite = false;
  for (const c of obj.icalComponents) {
    const rid = c.getFirstPropertyValue('recurrence-id') as Time | null;
    const span = spanOf(c, ms);
    if (rid) {
      const recurrenceId = ms(rid);
      exceptions.push({
        recurrenceId,
        ridIsDate: rid.isDate,
        ridDay: dateKey(rid),
        start: span?.start ?? recurrenceId,
        end: span?.end ?? recurrenceId,
        cancelled: isCancelled(c),
      });
      recurring = true;
    } else if (!master && span) {
      master = { comp: c, ...span, duration: span.end - span.start, cancelled: isCancelled(c) };
      const rrules = c.getAllProperties('rrule');
      if (rrules.length || c.hasProperty('rdate')) recurring = true;
      for (const p of rrules) if (!(p.getFirstValue() as InstanceType<typeof ICAL.Recur>).isFinite()) infinite = true;
    }
  }
  exceptions.sort((a, b) => a.recurrenceId - b.recurrenceId);
  return { master, recurring, infinite, exceptions, reader };
}

interface Source {
  head: Instance | null;
  advance(): Instance | null;
}

/** The master's instances in ascending order: DTSTART, RRULEs and RDATEs merged, EXDATEs removed. */
export class InstanceStream {
  /** True when the iteration cap stopped an RRULE before it ended. */
  exhausted = false;
  private budget = MAX_RECURRENCE_ITERATIONS;
  private readonly sources: Source[] = [];
  private readonly exact = new Set<number>();
  private readonly days = new Set<number>();
  private last = -Infinity;

  constructor(master: NonNullable<Series['master']>, ms: (t: Time) => number) {
    const c = master.comp;
    const inst = (t: Time): Instance => ({ start: ms(t), day: dateKey(t) });
    const list = (items: Instance[]): Source => {
      items.sort((a, b) => a.start - b.start);
      let i = 0;
      const src: Source = { head: items[i++] ?? null, advance: () => (src.head = items[i++] ?? null) };
      return src;
    };
    const rdates: Instance[] = [inst(master.dtstart)];
    for (const p of c.getAllProperties('rdate')) {
      for (const v of p.getValues() as Array<Time | InstanceType<typeof ICAL.Period>>) {
        rdates.push(inst(v instanceof ICAL.Period ? v.start : v));
      }
    }
    this.sources.push(list(rdates));
    for (const p of c.getAllProperties('rrule')) {
      const it = (p.getFirstValue() as InstanceType<typeof ICAL.Recur>).iterator(master.dtstart.clone());
      const src: Source = {
        head: null,
        advance: () => {
          if (this.budget-- <= 0) {
            this.exhausted = true;
            return (src.head = null);
          }
          const t = it.next();
          return (src.head = t ? inst(t) : null);
        },
      };
      src.advance();
      this.sources.push(src);
    }
    for (const p of c.getAllProperties('exdate')) {
      for (const v of p.getValues() as Time[]) {
        if (v.isDate) this.days.add(dateKey(v));
        else this.exact.add(ms(v));
      }
    }
  }

  next(): Instance | null {
    for (;;) {
      let best: Source | null = null;
      for (const s of this.sources) if (s.head && (!best || s.head.start < (best.head as Instance).start)) best = s;
      if (!best) return null;
      const value = best.head as Instance;
      best.advance();
      if (value.start === this.last) continue; // the same instant from two sources (DTSTART and the RRULE)
      this.last = value.start;
      if (this.exact.has(value.start) || this.days.has(value.day)) continue;
      return value;
    }
  }
}

/** Finds the exception that replaces an instance (by instant, or by date for a DATE-valued RECURRENCE-ID). */
export function exceptionFor(series: Series): (i: Instance) => ExceptionSpan | undefined {
  const byInstant = new Map<number, ExceptionSpan>();
  const byDay = new Map<number, ExceptionSpan>();
  for (const e of series.exceptions) (e.ridIsDate ? byDay : byInstant).set(e.ridIsDate ? e.ridDay : e.recurrenceId, e);
  return (i) => byInstant.get(i.start) ?? byDay.get(i.day);
}

/**
 * Earliest start and latest end over the live occurrences (not cancelled). lastEnd is null when the series
 * never ends or the iteration cap was reached. When no occurrence is live (all excluded or cancelled), the
 * nominal span is used instead: the master's DTSTART/DTEND and the exceptions' own times.
 */
export function seriesSpan(series: Series): { firstStart: number | null; lastEnd: number | null } {
  let first = Infinity;
  let last = -Infinity;
  for (const e of series.exceptions) {
    if (e.cancelled) continue;
    first = Math.min(first, e.start);
    last = Math.max(last, e.end);
  }
  let complete = true;
  const m = series.master;
  if (m && !m.cancelled) {
    const replaced = exceptionFor(series);
    const stream = new InstanceStream(m, series.reader.ms);
    for (let i = stream.next(); i; i = stream.next()) {
      if (replaced(i)) continue;
      first = Math.min(first, i.start);
      last = Math.max(last, i.start + m.duration);
      if (series.infinite) break; // the first live instance is all we need: lastEnd is null anyway
    }
    complete = !stream.exhausted;
  }
  if (first === Infinity) {
    const spans = [...(m ? [{ start: m.start, end: m.end }] : []), ...series.exceptions];
    if (!spans.length) return { firstStart: null, lastEnd: null };
    first = Math.min(...spans.map((s) => s.start));
    last = Math.max(...spans.map((s) => s.end));
  }
  return { firstStart: first, lastEnd: series.infinite || !complete ? null : last };
}

/** Live occurrences whose start lies in [from, to), sorted by start, at most `limit`. */
export function occurrencesIn(series: Series, from: number, to: number, limit: number): Array<{ start: number; end: number; recurrenceId: number | null }> {
  const out: Array<{ start: number; end: number; recurrenceId: number | null }> = [];
  const m = series.master;
  if (m && !m.cancelled) {
    const replaced = exceptionFor(series);
    const stream = new InstanceStream(m, series.reader.ms);
    for (let i = stream.next(); i && i.start < to; i = stream.next()) {
      if (i.start < from || replaced(i)) continue;
      out.push({ start: i.start, end: i.start + m.duration, recurrenceId: series.recurring ? i.start : null });
      if (out.length >= limit) break; // exceptions below may still start earlier; the sort keeps the earliest
    }
  }
  for (const e of series.exceptions) {
    if (!e.cancelled && e.start >= from && e.start < to) out.push({ start: e.start, end: e.end, recurrenceId: e.recurrenceId });
  }
  out.sort((a, b) => a.start - b.start);
  return out.slice(0, Math.max(0, limit));
}
