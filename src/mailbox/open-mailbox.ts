import { MmsError } from '../domain/errors.js';
import type { SecretBox } from '../secrets/index.js';
import type { Db } from '../store/index.js';
import { getMailboxHostById, getUserMailbox, type MailboxHostRecord } from '../store/mailbox-host-repo.js';
import { BuiltinUserMailbox } from './builtin-mailbox.js';
import { CalDavUserMailbox, type DavCalendars } from './caldav/caldav-mailbox.js';
import { DavClient, DavError, discoverCalendars, limiterFor } from './caldav/index.js';
import { asMmsError } from './caldav/objects.js';
import { connectionOf } from './connection.js';
import type { UserMailbox } from './mailbox-store.js';

export interface OpenMailboxOptions {
  readonly now: () => number;
  /** Opens stored passwords; needed only for a user whose mailbox is on a host. */
  readonly secrets?: SecretBox;
  /** Per-request timeout for calendar servers (default 30 s). */
  readonly timeoutMs?: number;
}

interface UserRow {
  readonly id: string;
  readonly upn: string;
  readonly zone: string;
}

async function userRow(db: Db, userId: string): Promise<UserRow | undefined> {
  const r = await db.kysely.selectFrom('users').innerJoin('tenants', 'tenants.id', 'users.tenant_id')
    .select(['users.id', 'users.upn', 'users.time_zone as own', 'tenants.time_zone as tenant']).where('users.id', '=', userId).executeTakeFirst();
  return r && { id: r.id, upn: r.upn, zone: r.own ?? r.tenant ?? 'UTC' };
}

/** Connects to a user's calendars on a host and discovers them (RFC 6764 / 4791 / 5397, or the CalendarUrl given). */
async function reach(db: Db, host: MailboxHostRecord, user: UserRow, secrets: SecretBox, timeoutMs: number | undefined) {
  const mailbox = await getUserMailbox(db.kysely, user.id);
  if (!mailbox || mailbox.hostId !== host.id) return undefined;
  const conn = connectionOf(host, { id: user.id, upn: user.upn, mailbox }, secrets);
  const client = new DavClient({ userName: conn.userName, password: conn.password, timeoutMs, limiter: limiterFor(conn.hostUrl, conn.maxConcurrency) });
  try {
    const found = await discoverCalendars(client, { hostUrl: conn.hostUrl, principalUrl: conn.principalUrl, calendarUrl: conn.calendarUrl });
    return { client, calendars: found.calendars.map((c) => c.url), autoSchedule: found.autoSchedule };
  } catch (err) {
    throw asMmsError(err, `mailbox host '${host.name}' (${user.upn})`);
  }
}

/**
 * The mailbox of one user, in whichever store it is: on a mailbox host when Set-MmsUserMailbox put it there, else
 * the built-in store. The engine migrates through the returned UserMailbox without knowing which.
 */
export async function openUserMailbox(db: Db, tenantId: string, userId: string, opts: OpenMailboxOptions): Promise<UserMailbox> {
  const assignment = await getUserMailbox(db.kysely, userId);
  if (!assignment) return new BuiltinUserMailbox(db, tenantId, userId, opts.now);
  const host = await getMailboxHostById(db.kysely, assignment.hostId);
  const user = await userRow(db, userId);
  if (!host || !user) return new BuiltinUserMailbox(db, tenantId, userId, opts.now);
  if (!opts.secrets) throw new MmsError('Config', `the mailbox of ${user.upn} is on host '${host.name}' but this process was given no secret key to open its password; run it as mms serve does (MMS_SECRET_KEY, or the key file beside the SQLite database)`);
  const secrets = opts.secrets;
  const own = await reach(db, host, user, secrets, opts.timeoutMs);
  if (!own) return new BuiltinUserMailbox(db, tenantId, userId, opts.now);
  const others = new Map<string, Promise<DavCalendars | undefined>>();
  return new CalDavUserMailbox({
    db, tenantId, user, host: { id: host.id, name: host.name }, mailbox: own, autoSchedule: own.autoSchedule, timeZone: user.zone, now: opts.now,
    onSameHost: async (ids) => {
      const rows = await db.kysely.selectFrom('user_mailboxes').innerJoin('users', (j) => j.onRef('users.tenant_id', '=', 'user_mailboxes.tenant_id').onRef('users.id', '=', 'user_mailboxes.user_id')).where('users.tenant_id', '=', tenantId).select('users.id')
        .where('user_mailboxes.host_id', '=', host.id).where('users.mailbox_location', '=', 'Online').where('users.id', 'in', [...new Set(ids)]).execute();
      return new Set(rows.map((r) => r.id));
    },
    calendarsOf: (attendeeId) => {
      let hit = others.get(attendeeId);
      if (!hit) {
        hit = userRow(db, attendeeId).then((u) => (u ? reach(db, host, u, secrets, opts.timeoutMs) : undefined));
        others.set(attendeeId, hit);
      }
      return hit;
    },
  });
}

/**
 * A mailbox reached by URL and account alone, with no mailbox host (the manual tool's -CalDavUrl): the URL may be a
 * calendar, or a server to discover the account's calendars on. MMS updates nobody's copy through it.
 */
export async function openMailboxAt(db: Db, tenantId: string, userId: string, at: { url: string; userName: string; password: string; timeoutMs?: number }, now: () => number): Promise<UserMailbox> {
  const user = await userRow(db, userId);
  if (!user) throw new MmsError('NotFound', `user ${userId} no longer exists`);
  const client = new DavClient({ userName: at.userName, password: at.password, timeoutMs: at.timeoutMs, limiter: limiterFor(at.url, 4) });
  const where = `${at.url} (${at.userName})`;
  let found;
  try {
    found = await discoverCalendars(client, { hostUrl: at.url, calendarUrl: at.url });
  } catch (err) {
    // Not a calendar collection: a server (or principal) URL, where discovery finds the account's calendars.
    if (!(err instanceof DavError && err.kind === 'NotFound')) throw asMmsError(err, where);
    try {
      found = await discoverCalendars(client, { hostUrl: at.url });
    } catch (again) {
      throw asMmsError(again, where);
    }
  }
  return new CalDavUserMailbox({
    db, tenantId, user, host: { id: '', name: at.url }, mailbox: { client, calendars: found.calendars.map((c) => c.url) }, autoSchedule: found.autoSchedule,
    timeZone: user.zone, now, onSameHost: async () => new Set(), calendarsOf: async () => undefined,
  });
}
