// IANA time zones through Intl, for a TZID that names an IANA zone but has no VTIMEZONE in the object, and for
// generating VTIMEZONEs. Intl carries the full tz database history, so this is exact for any year.
import { ICAL } from './setup.js';

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(tzid: string): Intl.DateTimeFormat | null {
  let f = formatters.get(tzid);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tzid,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      f = null; // RangeError: not a zone Intl knows
    }
    formatters.set(tzid, f);
  }
  return f;
}

/** Whether Intl knows this zone name (IANA names such as Europe/Berlin, and UTC). */
export function isIanaZone(tzid: string): boolean {
  return formatter(tzid) !== null;
}

/** Intl's own spelling of a zone it knows (it accepts any letter case), e.g. america/new_york -> America/New_York. */
export function canonicalIana(tzid: string): string | null {
  const f = formatter(tzid);
  return f ? f.resolvedOptions().timeZone : null;
}

// Offsets are cached per zone in 15-minute buckets: since 1970 every transition of the tz database falls on
// a quarter hour, so all instants of one bucket share their offset. The cache is dropped when it grows large.
const BUCKET_MS = 15 * 60 * 1000;
const offsetCache = new Map<string, Map<number, number>>();

/** Offset (local minus UTC, in ms) of an IANA zone at an instant. */
export function offsetAt(tzid: string, epochMs: number): number {
  const bucket = Math.floor(epochMs / BUCKET_MS);
  let zoneCache = offsetCache.get(tzid);
  if (!zoneCache || zoneCache.size > 100_000) offsetCache.set(tzid, (zoneCache = new Map()));
  const hit = zoneCache.get(bucket);
  if (hit !== undefined) return hit;
  const f = formatter(tzid);
  if (!f) throw new Error(`unknown time zone "${tzid}"`);
  const at = bucket * BUCKET_MS;
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const local = Date.UTC(p['year'] as number, (p['month'] as number) - 1, p['day'], p['hour'], p['minute'], p['second']);
  const offset = local - at;
  zoneCache.set(bucket, offset);
  return offset;
}

/**
 * The instant of a wall-clock time in an IANA zone. RFC 5545 §3.3.5: a time that occurs twice (clocks go
 * back) is the first of the two, and a time that does not exist (clocks go forward) is read with the offset
 * from before the gap.
 */
export function wallToEpoch(tzid: string, wallMs: number): number {
  const day = 86_400_000;
  const before = offsetAt(tzid, wallMs - day);
  const after = offsetAt(tzid, wallMs + day);
  const early = wallMs - before;
  if (before === after || offsetAt(tzid, early) === before) return early;
  const late = wallMs - after;
  if (offsetAt(tzid, late) === after) return late;
  return early; // in the gap
}

/**
 * An ical.js Timezone backed by Intl. Registered with ical.js's TimezoneService under its IANA name, it
 * resolves a TZID that has no VTIMEZONE in the object. Only IANA names are registered there, and a zone's
 * meaning is the same for every object, so nothing object-specific leaks between objects.
 */
export class IntlTimezone extends ICAL.Timezone {
  /** `tzid` is the name the object uses (a Windows name, say); `iana` the zone Intl reads it with. */
  constructor(tzid: string, readonly iana: string = tzid) {
    super({ tzid });
  }

  override utcOffset(tt: InstanceType<typeof ICAL.Time>): number {
    const wall = Date.UTC(tt.year, tt.month - 1, tt.day, tt.hour, tt.minute, tt.second);
    return (wall - wallToEpoch(this.iana, wall)) / 1000;
  }
}

/**
 * Registers an Intl-backed zone with ical.js (once) under the name an object uses, read as the IANA zone `iana`
 * (the name itself by default). Only names whose meaning is the same for every object are registered: IANA
 * names, and Windows names through CLDR's fixed mapping. Returns false when Intl does not know `iana`.
 */
export function ensureIntlZone(tzid: string, iana: string = tzid): boolean {
  if (ICAL.TimezoneService.has(tzid)) return true;
  if (!isIanaZone(iana)) return false;
  ICAL.TimezoneService.register(new IntlTimezone(tzid, iana), tzid);
  return true;
}
