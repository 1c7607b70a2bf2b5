import type { Kysely, Selectable } from 'kysely';
import type { Database, MailboxHostTable, UserMailboxTable } from './schema.js';

type K = Kysely<Database>;

/** A mailbox host as stored: the password stays sealed here; only src/secrets/ opens it, and only to connect. */
export interface MailboxHostRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly type: 'CalDav';
  readonly url: string;
  readonly userName: string | null;
  readonly passwordSealed: string | null;
  readonly maxConcurrency: number;
  readonly principalUrlTemplate: string | null;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

/** A user's mailbox assignment as stored. */
export interface UserMailboxRecord {
  readonly userId: string;
  readonly tenantId: string;
  readonly hostId: string;
  readonly calendarUrl: string | null;
  readonly userName: string | null;
  readonly passwordSealed: string | null;
  readonly modifiedAt: number;
}

function hostFromRow(r: Selectable<MailboxHostTable>): MailboxHostRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    type: r.type,
    url: r.url,
    userName: r.user_name,
    passwordSealed: r.password_sealed,
    maxConcurrency: r.max_concurrency,
    principalUrlTemplate: r.principal_url_template,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
  };
}

function userMailboxFromRow(r: Selectable<UserMailboxTable>): UserMailboxRecord {
  return { userId: r.user_id, tenantId: r.tenant_id, hostId: r.host_id, calendarUrl: r.calendar_url, userName: r.user_name, passwordSealed: r.password_sealed, modifiedAt: r.modified_at };
}

export async function insertMailboxHost(k: K, h: MailboxHostRecord): Promise<void> {
  await k.insertInto('mailbox_hosts').values({
    id: h.id, tenant_id: h.tenantId, name: h.name, name_key: h.name.toLowerCase(), type: h.type, url: h.url, user_name: h.userName,
    password_sealed: h.passwordSealed, max_concurrency: h.maxConcurrency, principal_url_template: h.principalUrlTemplate,
    created_at: h.createdAt, modified_at: h.modifiedAt,
  }).execute();
}

export async function updateMailboxHost(k: K, h: MailboxHostRecord): Promise<void> {
  await k.updateTable('mailbox_hosts').set({
    url: h.url, user_name: h.userName, password_sealed: h.passwordSealed, max_concurrency: h.maxConcurrency,
    principal_url_template: h.principalUrlTemplate, modified_at: h.modifiedAt,
  }).where('id', '=', h.id).execute();
}

export async function deleteMailboxHost(k: K, id: string): Promise<void> {
  await k.deleteFrom('mailbox_hosts').where('id', '=', id).execute();
}

/** The tenant's host of this name (case-insensitive). */
export async function findMailboxHost(k: K, tenantId: string, name: string): Promise<MailboxHostRecord | undefined> {
  const r = await k.selectFrom('mailbox_hosts').selectAll().where('tenant_id', '=', tenantId).where('name_key', '=', name.trim().toLowerCase()).executeTakeFirst();
  return r ? hostFromRow(r) : undefined;
}

export async function getMailboxHostById(k: K, id: string): Promise<MailboxHostRecord | undefined> {
  const r = await k.selectFrom('mailbox_hosts').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? hostFromRow(r) : undefined;
}

/** The tenant's hosts by name, with how many users' mailboxes are on each. */
export async function listMailboxHosts(k: K, tenantId: string): Promise<(MailboxHostRecord & { users: number })[]> {
  const rows = await k.selectFrom('mailbox_hosts').selectAll().where('tenant_id', '=', tenantId).orderBy('name_key').execute();
  const counts = await k.selectFrom('user_mailboxes').select(['host_id', (eb) => eb.fn.countAll<number>().as('n')]).where('tenant_id', '=', tenantId).groupBy('host_id').execute();
  const byHost = new Map(counts.map((c) => [c.host_id, Number(c.n)]));
  return rows.map((r) => ({ ...hostFromRow(r), users: byHost.get(r.id) ?? 0 }));
}

export async function countUsersOnHost(k: K, hostId: string): Promise<number> {
  const r = await k.selectFrom('user_mailboxes').select((eb) => eb.fn.countAll<number>().as('n')).where('host_id', '=', hostId).executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function getUserMailbox(k: K, userId: string): Promise<UserMailboxRecord | undefined> {
  const r = await k.selectFrom('user_mailboxes').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return r ? userMailboxFromRow(r) : undefined;
}

/** Puts a user's mailbox on a host (replacing an earlier assignment). */
export async function upsertUserMailbox(k: K, m: UserMailboxRecord): Promise<void> {
  const values = { host_id: m.hostId, calendar_url: m.calendarUrl, user_name: m.userName, password_sealed: m.passwordSealed, modified_at: m.modifiedAt };
  await k.insertInto('user_mailboxes').values({ user_id: m.userId, tenant_id: m.tenantId, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values)).execute();
}
