import { checkStatus, DavClient, DavError, hrefIn, propKey, type DavResource } from './dav-client.js';
import { childOf, childrenOf, NS } from './xml.js';

/** A calendar collection that can hold meetings (VEVENTs). */
export interface DiscoveredCalendar {
  readonly url: string;
  readonly displayName: string;
  /** The collection lists DAV:sync-collection (RFC 6578) in its supported-report-set. */
  readonly syncCollection: boolean;
}

/** What a server offers one account: the DAV compliance classes, where the user's calendars are, and which they are. */
export interface Discovery {
  /** Tokens of the DAV response header (RFC 4918 §10.1), e.g. `1`, `3`, `calendar-access`, `calendar-auto-schedule`. */
  readonly davCompliance: readonly string[];
  /** The server schedules (RFC 6638 §2): an organizer's PUT delivers the update to attendees. */
  readonly autoSchedule: boolean;
  /** Undefined when a CalendarUrl was given and no discovery ran. */
  readonly principalUrl: string | undefined;
  readonly calendarHomeUrl: string | undefined;
  readonly calendars: readonly DiscoveredCalendar[];
}

/** Where discovery starts: the host URL, and optionally a known principal or a calendar URL that skips it. */
export interface DiscoverInput {
  readonly hostUrl: string;
  /** A principal URL (from the host's PrincipalUrlTemplate): skips current-user-principal. */
  readonly principalUrl?: string;
  /** The user's calendar, given: no discovery, the collection is checked and described. */
  readonly calendarUrl?: string;
}

const CALENDAR_PROPS = [
  [NS.DAV, 'resourcetype'], [NS.DAV, 'displayname'], [NS.CALDAV, 'supported-calendar-component-set'], [NS.DAV, 'supported-report-set'],
] as const;

/**
 * Finds a user's calendars: RFC 6764 (`/.well-known/caldav`, redirects followed) and RFC 5397
 * current-user-principal, then RFC 4791 §6.2.1 calendar-home-set, then the collections of the home that are
 * calendars holding VEVENTs; or, with a calendar URL, that collection alone.
 */
export async function discoverCalendars(client: DavClient, input: DiscoverInput): Promise<Discovery> {
  if (input.calendarUrl) {
    const url = new URL(input.calendarUrl).href;
    const { resources } = await client.propfind(url, '0', CALENDAR_PROPS);
    const cal = resources.map(describeCalendar).find((c) => c !== undefined);
    if (!cal) throw new DavError('NotFound', `${url} is not a calendar that holds meetings (VEVENT); give the URL of a calendar collection with -CalendarUrl`, 207, url);
    return withSchedule({ davCompliance: await davHeader(client, url), principalUrl: undefined, calendarHomeUrl: undefined, calendars: [cal] });
  }
  const principalUrl = input.principalUrl ? new URL(input.principalUrl).href : await findPrincipal(client, input.hostUrl);
  const { resources: principal } = await client.propfind(principalUrl, '0', [[NS.CALDAV, 'calendar-home-set']]);
  const homeUrl = hrefIn(principal[0]?.props.get(propKey(NS.CALDAV, 'calendar-home-set')), principalUrl);
  if (!homeUrl) throw new DavError('NotFound', `the principal ${principalUrl} has no calendar-home-set: it is not a CalDAV principal; check the host's -PrincipalUrlTemplate or give the user's -CalendarUrl`, 207, principalUrl);
  const { resources } = await client.propfind(homeUrl, '1', CALENDAR_PROPS);
  const calendars = resources.map(describeCalendar).filter((c): c is DiscoveredCalendar => c !== undefined);
  return withSchedule({ davCompliance: await davHeader(client, homeUrl), principalUrl, calendarHomeUrl: homeUrl, calendars });
}

function withSchedule(d: Omit<Discovery, 'autoSchedule'>): Discovery {
  return { ...d, autoSchedule: d.davCompliance.includes('calendar-auto-schedule') };
}

/**
 * The principal of the account: ask `/.well-known/caldav` on the host's origin (RFC 6764 §5), then the host URL
 * itself (a server without the well-known URL, or one whose DAV root is the given path).
 */
async function findPrincipal(client: DavClient, hostUrl: string): Promise<string> {
  const starts = [new URL('/.well-known/caldav', hostUrl).href, new URL(hostUrl).href];
  let lastNotFound: DavError | undefined;
  for (const start of starts) {
    try {
      const { resources, response } = await client.propfind(start, '0', [[NS.DAV, 'current-user-principal']]);
      for (const r of resources) {
        const p = hrefIn(r.props.get(propKey(NS.DAV, 'current-user-principal')), response.url);
        if (p) return p;
      }
    } catch (err) {
      // A missing well-known URL, or one that is not DAV, is the cue to try the host URL itself.
      if (err instanceof DavError && (err.kind === 'NotFound' || err.kind === 'Protocol')) {
        lastNotFound = err;
        continue;
      }
      throw err;
    }
  }
  throw new DavError('NotFound', `no principal found at ${starts.join(' or ')} (current-user-principal, RFC 5397)${lastNotFound ? ` (${lastNotFound.status})` : ''}: set the host's -PrincipalUrlTemplate or give the user's -CalendarUrl`, 404, hostUrl);
}

/** A calendar collection that holds VEVENTs; no component set means every component (RFC 4791 §5.2.3). */
function describeCalendar(r: DavResource): DiscoveredCalendar | undefined {
  if (!childOf(r.props.get(propKey(NS.DAV, 'resourcetype')), NS.CALDAV, 'calendar')) return undefined;
  const set = r.props.get(propKey(NS.CALDAV, 'supported-calendar-component-set'));
  if (set && !childrenOf(set, NS.CALDAV, 'comp').some((c) => c.attrs.name?.toUpperCase() === 'VEVENT')) return undefined;
  const reports = r.props.get(propKey(NS.DAV, 'supported-report-set'));
  const syncCollection = childrenOf(reports, NS.DAV, 'supported-report').some((s) => childOf(childOf(s, NS.DAV, 'report'), NS.DAV, 'sync-collection'));
  return { url: r.url, displayName: r.props.get(propKey(NS.DAV, 'displayname'))?.text.trim() ?? '', syncCollection };
}

/** The DAV header of OPTIONS on a collection: the compliance classes, calendar-auto-schedule among them. */
async function davHeader(client: DavClient, url: string): Promise<string[]> {
  const res = await client.request('OPTIONS', url);
  // A failed OPTIONS has no DAV header: reading it as "does not schedule" would make MMS mail attendees a server
  // also tells, so anything but success is an error.
  checkStatus(res, 'OPTIONS', (s) => s >= 200 && s < 300);
  return (res.headers.get('dav') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
