// The CalDAV scenario's data (setup, not measured): Radicale with an organizer and four internal attendees, each
// with their own account and calendar, filled with meetings made by New-MmsMeeting (organizer copy and attendee
// copies that differ: each attendee's response, reminder and category); the storage folder snapshotted so that the
// floor runs on a fresh copy of the same data. Also the plain HTTP the floor and the checks use.
import fs from 'node:fs';
import path from 'node:path';
import { changeTenant, newBridge, newTenant, newUser, setLicense, type DirectoryContext } from '../src/directory/index.js';
import type { Tenant } from '../src/domain/directory.js';
import { BuiltinMailboxStore } from '../src/mailbox/index.js';
import { scheduleMeeting } from '../src/meetings/index.js';
import type { Db } from '../src/store/index.js';
import { requireUser } from '../src/store/directory-repo.js';
import { personalFor, personalize } from '../test/helpers/personal-copy.js';
import { RadicaleServer, type RadicaleUser } from '../test/helpers/radicale.js';

export const CALDAV_DOMAIN = 'caldav.bench.example';
export const ORGANIZER = 'organizer';
export const ATTENDEES = ['att0', 'att1', 'att2', 'att3'] as const;
const DAY = 86_400_000;
const BODY = 'Hi all,\n\nAgenda:\n- Status per workstream\n- Risks and next steps (café ☕ afterwards)\n\nThanks';

/** One calendar object on Radicale: whose calendar, its URL, its text. */
export interface DavObject {
  readonly owner: string;
  readonly url: string;
  readonly ics: string;
}

export const upnOf = (name: string): string => `${name}@${CALDAV_DOMAIN}`;
export const calendarUrlOf = (server: RadicaleServer, name: string): string => `${server.url}/${name}/calendar/`;
const objectUrl = (server: RadicaleServer, owner: string, uid: string): string => `${calendarUrlOf(server, owner)}${encodeURIComponent(uid.replace(/[^A-Za-z0-9@._-]/g, '_'))}.ics`;

/** Radicale with one account per user (owner_only: each reaches only their own calendar), a calendar each. */
export async function startRadicale(): Promise<RadicaleServer> {
  const users: RadicaleUser[] = [ORGANIZER, ...ATTENDEES].map((name) => ({ name, password: `${name}-secret` }));
  const server = await RadicaleServer.start(users);
  for (const u of users) await server.makeCalendar(u.name, 'calendar', `${u.name}'s calendar`);
  return server;
}

/**
 * The directory (tenant, bridge, the five users, MeetingMigrationEnabled off while provisioning) and `meetings`
 * meetings of the organizer through New-MmsMeeting, with the four attendees and 2 external ones. The texts are
 * taken out of the built-in store (organizer copy as written, attendee copies personalized) and removed from it:
 * the mailboxes live on Radicale.
 */
export async function scheduleIntoRadicale(db: Db, server: RadicaleServer, meetings: number, concurrency: number): Promise<{ tenant: Tenant; objects: DavObject[] }> {
  const ctx: DirectoryContext = { db, actor: 'bench', now: Date.now, migrationDelayMs: 0 };
  const tenant = await newTenant(ctx, { name: 'Bench CalDAV', domains: [CALDAV_DOMAIN] });
  await changeTenant(ctx, tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: false } });
  await newBridge(ctx, tenant.id, { name: 'Bench US', tollNumbers: ['+14255550100 (Seattle) en-US'], tollFreeNumbers: ['+18665550100 (United States)'], isDefault: true });
  for (const name of [ORGANIZER, ...ATTENDEES]) await newUser(ctx, tenant.id, { userPrincipalName: upnOf(name), displayName: name });
  await setLicense(ctx, tenant.id, upnOf(ORGANIZER), { add: ['AudioConferencing'] });
  await changeTenant(ctx, tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: true } });
  const base = Math.floor(Date.now() / DAY) * DAY + DAY;
  const uids: string[] = [];
  for (let j = 0; j < meetings; j++) {
    const start = base + Math.floor(j / 6) * DAY + (8 + (j % 6)) * 3_600_000;
    const attendees = [...ATTENDEES.map(upnOf), `guest${j % 50}a@partner.example`, `guest${j % 50}b@partner.example`];
    const s = await scheduleMeeting(db, tenant.id, { organizer: upnOf(ORGANIZER), subject: `Design review ${j}`, start, end: start + 45 * 60_000, attendees, body: BODY }, Date.now);
    uids.push(s.uid);
  }
  const store = new BuiltinMailboxStore(db.kysely, tenant.id, Date.now);
  const objects: DavObject[] = [];
  let n = 0;
  for (const name of [ORGANIZER, ...ATTENDEES]) {
    const user = await requireUser(db.kysely, tenant.id, upnOf(name));
    const mine = new Map((await store.list(user.id)).map((o) => [o.uid, o]));
    for (const uid of uids) {
      const o = mine.get(uid);
      if (!o) throw new Error(`bench caldav: New-MmsMeeting left no copy of ${uid} in ${name}'s mailbox`);
      const ics = name === ORGANIZER ? o.ics : personalize(o.ics, upnOf(name), personalFor(upnOf(name), n++));
      objects.push({ owner: name, url: objectUrl(server, name, uid), ics });
      await store.remove(user.id, uid);
    }
  }
  await forEachLimited(objects, concurrency, async (o) => {
    const res = await fetch(o.url, { method: 'PUT', headers: { authorization: server.authOf(o.owner), 'content-type': 'text/calendar; charset=utf-8', 'if-none-match': '*' }, body: o.ics });
    await res.arrayBuffer();
    if (res.status !== 201 && res.status !== 204) throw new Error(`bench caldav: PUT ${o.url} answered ${res.status}`);
  });
  return { tenant, objects };
}

/** Runs `fn` over `items` with at most `limit` at once, in order of the list. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** One REPORT (calendar-query, getetag only) of a user's calendar: ETag by absolute object URL. */
export async function etagsOf(server: RadicaleServer, owner: string): Promise<Map<string, string>> {
  const url = calendarUrlOf(server, owner);
  const body = '<?xml version="1.0" encoding="utf-8"?>\n<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>';
  const res = await fetch(url, { method: 'REPORT', headers: { authorization: server.authOf(owner), depth: '1', 'content-type': 'application/xml; charset=utf-8' }, body });
  const text = await res.text();
  if (res.status !== 207) throw new Error(`bench caldav: REPORT ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  const out = new Map<string, string>();
  for (const part of text.split(/<\/(?:\w+:)?response>/)) {
    const href = /<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>/.exec(part)?.[1];
    const etag = /<(?:\w+:)?getetag>([^<]+)<\/(?:\w+:)?getetag>/.exec(part)?.[1];
    if (href && etag) out.set(new URL(unescape(href.trim()), url).href, unescape(etag.trim()));
  }
  return out;
}

/** The objects' current texts (GET), for the floor to PUT the engine's own bytes. */
export async function textsOf(server: RadicaleServer, objects: readonly DavObject[], concurrency: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await forEachLimited(objects, concurrency, async (o) => {
    const res = await fetch(o.url, { headers: { authorization: server.authOf(o.owner) } });
    const text = await res.text();
    if (res.status === 200) out.set(o.url, text);
  });
  return out;
}

/** Copies the server's storage folder aside (the server stopped meanwhile, so the copy is consistent). */
export async function snapshot(server: RadicaleServer, dest: string): Promise<void> {
  await server.stop();
  fs.rmSync(dest, { recursive: true, force: true });
  fs.cpSync(path.join(server.dir, 'collections'), dest, { recursive: true });
  await server.start();
}

/** Puts a snapshot back: the server sees the data as it was when the snapshot was taken. */
export async function restore(server: RadicaleServer, from: string): Promise<void> {
  await server.stop();
  const live = path.join(server.dir, 'collections');
  fs.rmSync(live, { recursive: true, force: true });
  fs.cpSync(from, live, { recursive: true });
  await server.start();
}
