import { MmsError, RetryLater } from '../../domain/errors.js';
import { checkStatus, DavBusy, DavClient, DavError, parseMultistatus, propKey, type DavResponse } from './dav-client.js';
import { NS } from './xml.js';

/** A calendar object resource as the server has it. */
export interface DavObject {
  readonly href: string;
  readonly etag: string;
  readonly ics: string;
}

const utcStamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** calendar-query (RFC 4791 §7.8) returning href, ETag and calendar data for the given filter. */
async function query(client: DavClient, calendarUrl: string, filter: string): Promise<DavObject[]> {
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<C:calendar-query xmlns:D="${NS.DAV}" xmlns:C="${NS.CALDAV}"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">${filter}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`;
  const res = await client.request('REPORT', calendarUrl, { headers: { depth: '1' }, body });
  checkStatus(res, 'REPORT', (s) => s === 207);
  return parseMultistatus(res.text, res.url).flatMap((r) => {
    const ics = r.props.get(propKey(NS.CALDAV, 'calendar-data'))?.text;
    const etag = r.props.get(propKey(NS.DAV, 'getetag'))?.text.trim();
    return ics && etag ? [{ href: r.url, etag, ics }] : [];
  });
}

/**
 * The events of a calendar that have an occurrence ending after `from` (RFC 4791 §9.9: a recurring series matches
 * when any of its occurrences overlaps the range, so a series that started long ago is included).
 */
export function eventsFrom(client: DavClient, calendarUrl: string, from: number): Promise<DavObject[]> {
  return query(client, calendarUrl, `<C:time-range start="${utcStamp(from)}"/>`);
}

/** The object with this UID in a calendar (RFC 4791 §9.7.5 text-match on UID), or undefined. */
export async function eventByUid(client: DavClient, calendarUrl: string, uid: string): Promise<DavObject | undefined> {
  const found = await query(client, calendarUrl, `<C:prop-filter name="UID"><C:text-match collation="i;octet">${xmlEscape(uid)}</C:text-match></C:prop-filter>`);
  // text-match is a substring match (RFC 4791 §9.7.5), and a server may ignore the filter: keep the exact UID only.
  return found.find((o) => uidIn(o.ics) === uid);
}

const UID_LINE = /^UID(?:;[^:\r\n]*)?:([^\r\n]*)$/im;

/** The UID of an object's text (unfolded first). */
export const uidIn = (ics: string): string | undefined => UID_LINE.exec(ics.replace(/\r?\n[ \t]/g, ''))?.[1]?.trim();

/** GET one object; undefined when it is gone (404). */
export async function getObject(client: DavClient, href: string): Promise<DavObject | undefined> {
  let res: DavResponse;
  try {
    res = await client.request('GET', href, { headers: { accept: 'text/calendar' } });
  } catch (err) {
    if (err instanceof DavError && err.kind === 'NotFound') return undefined;
    throw err;
  }
  checkStatus(res, 'GET', (s) => s === 200);
  return { href: res.url, etag: res.headers.get('etag') ?? '', ics: res.text };
}

/**
 * PUT one object conditionally: `ifMatch` an ETag (RFC 9110 §13.1.1; the object must still be the one read), or
 * 'absent' (If-None-Match: *, the object must not exist yet). Returns the new ETag when the server says it, or ''
 * (RFC 4791 §5.3.4 lets a server change the object as it stores it; the next read carries the real one).
 */
export async function putObject(client: DavClient, href: string, ics: string, condition: { ifMatch: string } | 'absent'): Promise<{ outcome: 'Written'; etag: string } | { outcome: 'Conflict' | 'Gone' }> {
  const headers: Record<string, string> = { 'content-type': 'text/calendar; charset=utf-8' };
  // Never unconditional: without an ETag there is nothing to make the write conditional on (an edit could be lost).
  if (condition !== 'absent' && !condition.ifMatch) throw new DavError('Protocol', `PUT ${href}: the server gave no ETag for the object, so it cannot be written conditionally; MMS does not overwrite without one`, undefined, href);
  if (condition === 'absent') headers['if-none-match'] = '*';
  else headers['if-match'] = condition.ifMatch;
  let res: DavResponse;
  try {
    res = await client.request('PUT', href, { headers, body: ics });
  } catch (err) {
    // With If-Match, 404 means the object was deleted since it was read.
    if (err instanceof DavError && err.kind === 'NotFound' && condition !== 'absent') return { outcome: 'Gone' };
    throw err;
  }
  if (res.status === 412) return { outcome: 'Conflict' };
  checkStatus(res, 'PUT', (s) => s >= 200 && s < 300);
  return { outcome: 'Written', etag: res.headers.get('etag') ?? '' };
}

/**
 * A DAV failure as the engine's queue reads it: the server away, slow or failing (and 429/503) is Transient and
 * retried with the queue's backoff (never before the server's Retry-After); a refused account or object fails the
 * request at once with what the account lacks. The message names the host.
 */
export function asMmsError(err: unknown, where: string): unknown {
  if (!(err instanceof DavError)) return err;
  const message = `${where}: ${err.message}`;
  if (err instanceof DavBusy) return new RetryLater(message, err.retryAfterMs);
  if (err.transient) return new MmsError('Transient', message);
  return new MmsError(err.kind === 'NotFound' ? 'NotFound' : err.kind === 'Protocol' ? 'Invalid' : 'Conflict', message);
}
