// Local wall-clock arithmetic for planning meetings "at 10:00 in Paris": a wall time is kept as the epoch ms
// it would be if the wall clock were UTC, so days and weeks can be added without thinking about offsets.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The zone's offset from UTC at an instant, in ms. */
export function offsetAt(tz: string, epoch: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(epoch))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return wall - Math.floor(epoch / 1000) * 1000;
}

/** The wall time an instant shows in a zone. */
export const toWall = (tz: string, epoch: number): number => epoch + offsetAt(tz, epoch);

/** The instant a wall time names in a zone (the later reading in a DST gap or overlap is fine for a demo). */
export function fromWall(tz: string, wall: number): number {
  const first = wall - offsetAt(tz, wall);
  return wall - offsetAt(tz, first);
}

/** Midnight of the wall day `epoch` falls on in `tz`. */
export const wallDay = (tz: string, epoch: number): number => Math.floor(toWall(tz, epoch) / DAY) * DAY;

/** 0 = Sunday … 6 = Saturday. */
export const weekday = (wall: number): number => new Date(wall).getUTCDay();

export const isWeekend = (wall: number): boolean => weekday(wall) === 0 || weekday(wall) === 6;

/** The RFC 5545 two-letter day of a wall time (RRULE BYDAY). */
export const byDay = (wall: number): string => (['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const)[weekday(wall)] as string;

/** `20261201T090000`: a wall time as an RFC 5545 local DATE-TIME (§3.3.5 form 2, used with TZID). */
export function formatLocal(wall: number): string {
  return new Date(wall).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
}

/** `20261201T080000Z`: an instant as an RFC 5545 UTC DATE-TIME (§3.3.5 form 2, RRULE UNTIL). */
export const formatUtc = (epoch: number): string => `${formatLocal(epoch)}Z`;
