// Time zone resolution for one parsed object. ical.js 2.x resolves a TZID against the VTIMEZONEs of the
// object's own tree first (Component#getTimeZoneByID), then against its global TimezoneService. We keep
// object VTIMEZONEs out of the global service on purpose: two objects may define the same TZID differently,
// and a global registration would let one object's definition leak into another's times.
import { ICAL } from './setup.js';
import { WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { canonicalIana, ensureIntlZone } from './intl-zone.js';
import { type Comp, childComps, firstProp, rawOf } from './structure.js';

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
 * A TZID nobody can resolve: no usable VTIMEZONE in the object, and neither an IANA nor a Windows name. Its
 * times are read as UTC, and the object says which TZIDs these were (see prepareZones): a caller deciding
 * "past" on such a time must allow for any real offset (UTC-12 to UTC+14) instead.
 */
class UnresolvedZone extends ICAL.Timezone {
  constructor(tzid: string) {
    super({ tzid });
  }

  override utcOffset(): number {
    return 0;
  }
}

// CLDR's windowsZones (through windows-iana): each Windows name's "001" territory entry is the zone Windows
// itself means by it (Pacific Standard Time -> America/Los_Angeles). Outlook and Exchange write these names
// as TZIDs, in the letter case Windows uses; we accept any case.
const windowsToIana = new Map<string, string>();
for (const e of Object.values(WINDOWS_TO_IANA_MAP) as ReadonlyArray<{ readonly windowsName: string; readonly territory: string; readonly iana: readonly string[] }>) {
  const iana = e.iana[0];
  if (e.territory === '001' && iana) windowsToIana.set(e.windowsName.toLowerCase(), iana);
}

/**
 * The IANA zone a time zone name stands for: an IANA name Intl knows (in Intl's spelling), or a Windows name
 * (`Pacific Standard Time`, `W. Europe Standard Time`) mapped through CLDR's windowsZones. Null otherwise.
 */
export function ianaZoneOf(name: string): string | null {
  const v = name.trim();
  if (!v) return null;
  const iana = canonicalIana(v);
  if (iana) return iana;
  const mapped = windowsToIana.get(v.toLowerCase());
  return mapped ? canonicalIana(mapped) : null;
}

/** A VTIMEZONE ical.js can read times with: at least one STANDARD or DAYLIGHT observance with TZOFFSETTO. */
function usable(vtz: Comp): boolean {
  return childComps(vtz).some((o) => (o.name === 'STANDARD' || o.name === 'DAYLIGHT') && firstProp(o, 'TZOFFSETTO') !== undefined);
}

/** The Intl-backed ical.js zone for an IANA or Windows name, registered under that name; null if neither. */
function zoneByName(tzid: string): IcalTimezone | null {
  const iana = ianaZoneOf(tzid);
  if (!iana || !ensureIntlZone(tzid, iana)) return null;
  return ICAL.TimezoneService.get(tzid) ?? null;
}

/**
 * Prepares time zone resolution for one object before any of its times are read, in the order RFC 5545 gives
 * (§3.2.19: a TZID parameter refers to the VTIMEZONE of the object with that TZID):
 * 1. the object's own VTIMEZONE for the TZID, when it is usable (put into the tree's zone cache, shared
 *    hydrated instances, see above);
 * 2. otherwise the name itself: an IANA zone through Intl, or a Windows zone name through CLDR's mapping —
 *    Outlook and Exchange write `TZID=Pacific Standard Time`, sometimes without any VTIMEZONE;
 * 3. otherwise the TZID is unresolved: its times are read as UTC, and it is returned so that the caller can
 *    say so and widen any decision taken on those times.
 *
 * @returns the TZIDs that could not be resolved, in order of first reference.
 * @throws when a VTIMEZONE that is the only way to read its TZID cannot be hydrated.
 */
export function prepareZones(root: IcalComponent, vtimezones: readonly Comp[], referenced: ReadonlySet<string>): string[] {
  // ical.js keeps the per-tree cache in a private field. If a future version renames it, nothing breaks:
  // ical.js then hydrates the zones itself, only more slowly, and an unresolved TZID reads as floating.
  const treeCache = (root as unknown as { _timezoneCache?: unknown })._timezoneCache;
  const cache = treeCache instanceof Map ? (treeCache as Map<string, IcalTimezone>) : null;
  const defined = new Set<string>();
  const unknown: string[] = [];
  for (const vtz of vtimezones) {
    const tzid = firstProp(vtz, 'TZID')?.value;
    if (!tzid || defined.has(tzid)) continue; // the first VTIMEZONE of a TZID wins, as in ical.js
    defined.add(tzid);
    let zone: IcalTimezone | null = null;
    let failure: unknown = null;
    if (usable(vtz)) {
      try {
        zone = hydrate(vtz, tzid);
      } catch (e) {
        failure = e;
      }
    }
    zone ??= zoneByName(tzid);
    if (!zone && failure) throw failure;
    if (!zone) {
      if (referenced.has(tzid)) unknown.push(tzid);
      zone = new UnresolvedZone(tzid);
    }
    cache?.set(tzid, zone);
  }
  for (const tzid of referenced) {
    if (defined.has(tzid) || zoneByName(tzid)) continue;
    unknown.push(tzid);
    cache?.set(tzid, new UnresolvedZone(tzid));
  }
  return unknown;
}
