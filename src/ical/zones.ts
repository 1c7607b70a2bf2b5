// Time zone resolution for one parsed object. ical.js 2.x resolves a TZID against the VTIMEZONEs of the
// object's own tree first (Component#getTimeZoneByID), then against its global TimezoneService. We keep
// object VTIMEZONEs out of the global service on purpose: two objects may define the same TZID differently,
// and a global registration would let one object's definition leak into another's times.
import { ICAL } from './setup.js';
import { ensureIntlZone } from './intl-zone.js';
import { type Comp, firstProp, rawOf } from './structure.js';

type IcalTimezone = InstanceType<typeof ICAL.Timezone>;
type IcalComponent = InstanceType<typeof ICAL.Component>;

// Hydrating a VTIMEZONE is the expensive part of reading an object: ical.js expands every observance from its
// DTSTART (1601 in Outlook exports) to the present. The same VTIMEZONE text recurs in thousands of objects, so
// hydrated zones are shared by exact content: the key is the raw text, so a different definition under the
// same TZID is a different key. The cache is bounded: it is cleared when it holds too many definitions.
const hydrated = new Map<string, IcalTimezone>();
const MAX_CACHED_ZONES = 2_000;

/**
 * ical.js finds an offset by searching the zone's change list, cloning entries as it goes; recurrence
 * iteration asks for the same wall times again and again. Offsets are memoized per zone by wall time.
 */
function memoizeOffsets(zone: IcalTimezone): void {
  const compute = zone.utcOffset.bind(zone);
  let memo = new Map<number, number>();
  zone.utcOffset = (tt) => {
    const wall = Date.UTC(tt.year, tt.month - 1, tt.day, tt.hour, tt.minute, tt.second);
    let offset = memo.get(wall);
    if (offset === undefined) {
      if (memo.size >= 50_000) memo = new Map();
      offset = compute(tt);
      memo.set(wall, offset);
    }
    return offset;
  };
}

function hydrate(vtimezone: Comp, tzid: string): IcalTimezone {
  const raw = rawOf(vtimezone);
  const key = raw;
  let zone = hydrated.get(key);
  if (!zone) {
    // Parsed on its own, so the cached zone does not keep the whole object it came from alive.
    zone = new ICAL.Timezone({ component: new ICAL.Component(ICAL.parse(raw)), tzid });
    memoizeOffsets(zone);
    if (hydrated.size >= MAX_CACHED_ZONES) hydrated.clear();
    hydrated.set(key, zone);
  }
  return zone;
}

/**
 * Prepares time zone resolution for one object before any of its times are read: the object's VTIMEZONEs are
 * put into its own tree's zone cache (shared hydrated instances, see above), and a referenced TZID without a
 * VTIMEZONE that names an IANA zone is resolved through Intl. A TZID that is neither stays unresolved, and
 * ical.js then reads the time as floating, which we take as UTC.
 */
export function prepareZones(root: IcalComponent, vtimezones: readonly Comp[], referenced: ReadonlySet<string>): void {
  // ical.js keeps the per-tree cache in a private field. If a future version renames it, nothing breaks:
  // ical.js then hydrates the zones itself, only more slowly.
  const treeCache = (root as unknown as { _timezoneCache?: unknown })._timezoneCache;
  const defined = new Set<string>();
  for (const vtz of vtimezones) {
    const tzid = firstProp(vtz, 'TZID')?.value;
    if (!tzid || defined.has(tzid)) continue; // the first VTIMEZONE of a TZID wins, as in ical.js
    defined.add(tzid);
    if (treeCache instanceof Map) treeCache.set(tzid, hydrate(vtz, tzid));
  }
  for (const tzid of referenced) if (!defined.has(tzid)) ensureIntlZone(tzid);
}
