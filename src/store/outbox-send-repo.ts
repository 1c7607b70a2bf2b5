import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.js';
import { writeTransaction } from './transaction.js';
import { NO_HOLDER, currentHolder, holderColumns } from './lease-holder.js';
import { expireLocalOrphans, leaseClock } from './lease-orphans.js';

/** An outbox row claimed for sending, with the stored message it links to. */
export interface ClaimedMail {
  readonly id: number;
  readonly tenantId: string;
  readonly correlationId: string;
  readonly uid: string;
  readonly recipient: string;
  /** This claim's number: 1 on the first try (attempts are counted at the claim, as the queue counts them). */
  readonly attempt: number;
  readonly from: string;
  readonly sender: string;
  readonly subject: string;
  readonly ics: string;
  /** The organizer's preferred language, or undefined when the organizer is no longer in the directory. */
  readonly language: string | undefined;
  /** A UserNotice's content (JSON, its PIN sealed); null for an iMIP message (migration 020). */
  readonly notice: string | null;
}

/**
 * Claims up to `limit` messages to send: Queued ones whose retry time has come, and Sending ones whose lease
 * expired (their sender died between claim and commit; sending again is SMTP's one at-least-once window). Each
 * claimed row becomes Sending under a lease in `senderId`'s name with its attempt counted, in one transaction
 * (`FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's single writer otherwise), so two senders never hold one
 * message. A sender claims only when it holds nothing, so a live lease still in its own name is an orphan
 * (a claim whose reply was lost with the connection) and is taken back at once, as the queue does; so are the
 * live leases of sender processes on this host that no longer run (a crash or SIGKILL: see lease-orphans.ts),
 * their attempt counted as after an expiry. The claim records this process as the holder.
 */
export async function claimMail(db: Db, senderId: string, now: number, leaseMs: number, limit: number): Promise<ClaimedMail[]> {
  const clock = leaseClock(db, now);
  const lockRows = db.dialect === 'postgres' ? sql`for update of o skip locked` : sql``;
  const me = currentHolder();
  return writeTransaction(db, async (tx) => {
    await expireLocalOrphans(tx, { table: 'outbox', held: 'Sending' }, clock, me, senderId);
    // The oldest `limit` of two kinds, each read in id order along outbox_sendable (state, internal, id) so that it
    // stops after `limit` rows: one query with `or` made SQLite read and sort every Queued message on every claim,
    // which grew with the outbox (0.72 of the floor at 4,000 messages, 0.81 at 300).
    const oldest = async (kind: ReturnType<typeof sql>) => (await sql<{ id: number }>`
      select o.id from outbox o
      where o.internal = 0 and o.message_id is not null and ${kind}
      order by o.id
      limit ${limit} ${lockRows}`.execute(tx)).rows.map((r) => Number(r.id));
    const queued = await oldest(sql`o.state = 'Queued' and (o.not_before is null or o.not_before <= ${now})`);
    const orphaned = await oldest(sql`o.state = 'Sending' and o.lease_expires_at < ${clock}`);
    const ids = [...queued, ...orphaned].sort((a, b) => a - b).slice(0, limit);
    if (!ids.length) return [];
    await tx.updateTable('outbox')
      .set({ state: 'Sending', lease_owner: senderId, lease_expires_at: sql<number>`${clock} + ${leaseMs}`, ...holderColumns(me), attempts: sql<number>`attempts + 1` })
      .where('id', 'in', ids).execute();
    const rows = await tx.selectFrom('outbox as o').innerJoin('outbox_messages as m', (j) => j.onRef('m.tenant_id', '=', 'o.tenant_id').onRef('m.id', '=', 'o.message_id'))
      .leftJoin('users as u', (j) => j.onRef('u.tenant_id', '=', 'o.tenant_id').onRef('u.id', '=', 'o.organizer_id'))
      .select(['o.id', 'o.tenant_id', 'o.correlation_id', 'o.uid', 'o.recipient', 'o.attempts', 'm.from_address', 'm.sender_address', 'm.subject', 'm.ics', 'u.preferred_language', 'm.notice'])
      .where('o.id', 'in', ids).orderBy('o.id').execute();
    return rows.map((r) => ({
      id: Number(r.id), tenantId: r.tenant_id, correlationId: r.correlation_id, uid: r.uid, recipient: r.recipient, attempt: Number(r.attempts),
      from: r.from_address, sender: r.sender_address, subject: r.subject, ics: r.ics, language: r.preferred_language ?? undefined,
      notice: r.notice ?? null,
    }));
  });
}

/** How a send ended, as the sender records it. */
export type MailOutcome =
  | { readonly state: 'Sent'; readonly reply: string }
  | { readonly state: 'Queued'; readonly reply: string; readonly retryAt: number }
  | { readonly state: 'Failed'; readonly reply: string };

/**
 * Records how a claimed message's send ended; only while `senderId` still holds it (false otherwise: another
 * sender took it over after this one's lease expired, and its record wins).
 */
export async function settleMail(db: Db, id: number, senderId: string, outcome: MailOutcome, now: number): Promise<boolean> {
  return settleOne(db.kysely, id, senderId, outcome, now);
}

async function settleOne(k: Db['kysely'], id: number, senderId: string, outcome: MailOutcome, now: number): Promise<boolean> {
  const r = await k.updateTable('outbox')
    .set({
      state: outcome.state,
      last_reply: outcome.reply,
      sent_at: outcome.state === 'Sent' ? now : null,
      not_before: outcome.state === 'Queued' ? outcome.retryAt : null,
      lease_owner: null,
      lease_expires_at: null,
      ...NO_HOLDER,
    })
    .where('id', '=', id).where('state', '=', 'Sending').where('lease_owner', '=', senderId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * {@link settleMail} for several messages in one statement (a sender recording a run of sends at once), each with
 * the time its send ended. Returns the ids `senderId` still held, whose outcome is now recorded.
 */
export async function settleMails(db: Db, senderId: string, items: ReadonlyArray<{ id: number; outcome: MailOutcome; at: number; notice?: boolean }>): Promise<Set<number>> {
  if (!items.length) return new Set();
  const sentNotices = items.filter((x) => x.notice && x.outcome.state === 'Sent').map((x) => x.id);
  // A sent user notice's PIN is removed in the same transaction that records it Sent (see forgetSentPins).
  if (sentNotices.length) {
    return writeTransaction(db, async (tx) => {
      const kept = await settleRun({ ...db, kysely: tx }, senderId, items);
      await forgetSentPins(tx, sentNotices.filter((id) => kept.has(id)));
      return kept;
    });
  }
  return settleRun(db, senderId, items);
}

async function settleRun(db: Db, senderId: string, items: ReadonlyArray<{ id: number; outcome: MailOutcome; at: number }>): Promise<Set<number>> {
  type Item = (typeof items)[number];
  // One CASE per column, one branch per message; the casts give PostgreSQL the parameters' types.
  const by = <T>(f: (x: Item) => string | number | null, type: 'text' | 'bigint', otherwise: RawBuilder<unknown>) =>
    sql<T>`case id ${sql.join(items.map((x) => sql`when ${x.id} then cast(${f(x)} as ${sql.raw(type)})`), sql` `)} else ${otherwise} end`;
  const rows = await db.kysely.updateTable('outbox')
    .set({
      state: by<MailOutcome['state']>((x) => x.outcome.state, 'text', sql`state`),
      last_reply: by<string>((x) => x.outcome.reply, 'text', sql`last_reply`),
      sent_at: by<number | null>((x) => (x.outcome.state === 'Sent' ? x.at : null), 'bigint', sql`null`),
      not_before: by<number | null>((x) => (x.outcome.state === 'Queued' ? x.outcome.retryAt : null), 'bigint', sql`null`),
      lease_owner: null,
      lease_expires_at: null,
      ...NO_HOLDER,
    })
    .where('id', 'in', items.map((x) => x.id)).where('state', '=', 'Sending').where('lease_owner', '=', senderId)
    .returning('id').execute();
  return new Set(rows.map((r) => Number(r.id)));
}

/**
 * A sent UserNotice's leader PIN leaves the database (issue 12 §3): its message keeps what it said but the PIN,
 * sealed or not. Until then the outbox message is the one place the PIN exists (sealed with the secret key when
 * there is one); a Failed or Queued message keeps it for its retry. A sender that dies between the send and this
 * statement sends the message again after its lease (SMTP's one at-least-once window), PIN included, and the
 * second settle removes it.
 */
async function forgetSentPins(k: Db['kysely'], outboxIds: readonly number[]): Promise<void> {
  if (!outboxIds.length) return;
  const rows = await k.selectFrom('outbox as o').innerJoin('outbox_messages as m', (j) => j.onRef('m.tenant_id', '=', 'o.tenant_id').onRef('m.id', '=', 'o.message_id'))
    .select(['m.id', 'm.notice']).where('o.id', 'in', [...outboxIds]).where('o.kind', '=', 'UserNotice').execute();
  for (const r of rows) {
    if (r.notice === null) continue;
    const { pin, ...rest } = JSON.parse(r.notice) as { pin?: unknown };
    if (pin === undefined) continue;
    await k.updateTable('outbox_messages').set({ notice: JSON.stringify({ ...rest, pinRemoved: true }) }).where('id', '=', Number(r.id)).execute();
  }
}

/**
 * Puts a tenant's Failed messages (or only those of `ids`) back to Queued to be sent at once, with their attempts
 * reset (a retried message gets the whole retry schedule again); the last reply stays until the next try replaces
 * it. Returns the ids put back.
 */
export async function requeueFailedMail(db: Db, tenantId: string, ids?: readonly number[]): Promise<number[]> {
  let q = db.kysely.updateTable('outbox').set({ state: 'Queued', attempts: 0, not_before: null })
    .where('tenant_id', '=', tenantId).where('state', '=', 'Failed').where('internal', '=', 0);
  if (ids) q = q.where('id', 'in', ids.length ? [...ids] : [-1]);
  const rows = await q.returning('id').execute();
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/**
 * Gives claimed messages that were not sent back to Queued at once (a sender stopping with part of its batch in
 * hand), their claim not counted as an attempt. Only rows `senderId` still holds.
 */
export async function releaseMail(db: Db, ids: readonly number[], senderId: string): Promise<void> {
  if (!ids.length) return;
  await db.kysely.updateTable('outbox')
    .set({ state: 'Queued', attempts: sql<number>`attempts - 1`, lease_owner: null, lease_expires_at: null, ...NO_HOLDER })
    .where('id', 'in', [...ids]).where('state', '=', 'Sending').where('lease_owner', '=', senderId)
    .execute();
}

/** Extends the lease on messages `senderId` still holds (a batch that takes long to send at the rate limit). */
export async function renewMailLease(db: Db, ids: readonly number[], senderId: string, now: number, leaseMs: number): Promise<void> {
  if (!ids.length) return;
  await db.kysely.updateTable('outbox').set({ lease_expires_at: sql<number>`${leaseClock(db, now)} + ${leaseMs}` })
    .where('id', 'in', [...ids]).where('state', '=', 'Sending').where('lease_owner', '=', senderId)
    .execute();
}

/** The state of one of a tenant's outbox rows and whether it is an iMIP message, or undefined when there is none. */
export async function mailState(db: Db, tenantId: string, id: number): Promise<{ state: string; internal: boolean } | undefined> {
  const r = await db.kysely.selectFrom('outbox').select(['state', 'internal']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  return r && { state: r.state, internal: r.internal === 1 };
}
