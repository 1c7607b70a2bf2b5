import { sql } from 'kysely';
import type { Db } from './db.js';
import { mergedType, requestFromRow, type MigrationRequest } from './requests-repo.js';
import { writeTransaction } from './transaction.js';
import { NO_HOLDER, currentHolder, holderColumns } from './lease-holder.js';
import { expireLocalOrphans, leaseClock } from './lease-orphans.js';
import { queueChanged } from './wake-signal.js';

/** A claimed request: which attempt this is (graceful give-backs at shutdown not counted) and its attempt row. */
export interface ClaimedRequest extends MigrationRequest {
  readonly attempt: number;
  readonly attemptId: number;
}

/** Attempts that count against MMS_RETRY_ATTEMPTS: every claim but those given back at shutdown. */
const countedAttempts = sql<number>`(select count(*) from migration_attempts a where a.tenant_id = r.tenant_id and a.correlation_id = r.id and (a.outcome is null or a.outcome <> 'Released'))`;

/**
 * The migration queue: the request row is the queue entry and the status record. A request is runnable when it
 * is Pending and its wait is over (and its tenant has migration enabled, and no other request of the same user is
 * InProgress), or when it is InProgress with an expired lease (its worker died).
 *
 * Attempts are counted here, at the claim, with a `migration_attempts` row in the same transaction: a worker that
 * dies on a request every time (out of memory, a native crash) never gets to count a failure itself, so a request
 * whose lease expired after `maxAttempts` claims ends Failed instead of being reclaimed for ever.
 */
export async function claimRequests(
  db: Db, workerId: string, now: number, leaseMs: number, limit = 1, only?: readonly string[], maxAttempts = Number.POSITIVE_INFINITY,
): Promise<ClaimedRequest[]> {
  const clock = leaseClock(db, now);
  // `only` restricts the claim to given requests (Start-CsExMeetingMigration -Wait runs its own, not others').
  const restrict = only ? sql`and r.id in (${sql.join(only.length ? [...only] : [''])})` : sql``;
  const lockRows = db.dialect === 'postgres' ? sql`for update of r skip locked` : sql``;
  const me = currentHolder();
  return writeTransaction(db, async (tx) => {
    await expireLocalOrphans(tx, { table: 'migration_requests', held: 'InProgress' }, clock, me, workerId);
    if (Number.isFinite(maxAttempts)) {
      const spent = await sql<{ id: string; n: number }>`
        select r.id, ${countedAttempts} as n from migration_requests r
        where r.state = 'InProgress' and r.lease_expires_at < ${clock} and ${countedAttempts} >= ${maxAttempts} ${restrict}
        ${lockRows}`.execute(tx);
      for (const { id, n } of spent.rows) {
        await tx.updateTable('migration_requests').set({
          state: 'Failed', lease_owner: null, lease_expires_at: null, ...NO_HOLDER, modified_date: now,
          last_message: `gave up after ${Number(n)} attempts: the worker stopped each time before finishing (out of memory or a crash?); check the service log, fix the cause and run Start-CsExMeetingMigration`,
        }).where('id', '=', id).execute();
        await tx.updateTable('migration_attempts').set({ ended_at: now, outcome: 'Abandoned' }).where('correlation_id', '=', id).where('ended_at', 'is', null).execute();
      }
    }
    const runnable = sql<{ id: string }>`
      select r.id from migration_requests r join tenants t on t.id = r.tenant_id
      where t.meeting_migration_enabled = 1 and (
        (r.state = 'Pending' and r.not_before <= ${now}
          and not exists (select 1 from migration_requests o where o.tenant_id = r.tenant_id and o.user_id = r.user_id and o.state = 'InProgress'))
        or (r.state = 'InProgress' and r.lease_expires_at < ${clock})) ${restrict}
      order by r.not_before, r.create_date
      limit ${limit} ${lockRows}`;
    const ids = (await runnable.execute(tx)).rows.map((x) => x.id);
    if (!ids.length) return [];
    const rows = await tx.updateTable('migration_requests')
      .set({ state: 'InProgress', lease_owner: workerId, lease_expires_at: sql<number>`${clock} + ${leaseMs}`, ...holderColumns(me), modified_date: now })
      .where('id', 'in', ids)
      .returningAll()
      .execute();
    const claimed: ClaimedRequest[] = [];
    for (const row of rows) {
      // An attempt left open belongs to a worker that died (its lease expired, which is how we got the request).
      await tx.updateTable('migration_attempts').set({ ended_at: now, outcome: 'Abandoned' }).where('correlation_id', '=', row.id).where('ended_at', 'is', null).execute();
      const a = await tx.insertInto('migration_attempts').values({ correlation_id: row.id, tenant_id: row.tenant_id, worker_id: workerId, started_at: now, ended_at: null, outcome: null })
        .returning('id').executeTakeFirstOrThrow();
      const n = await tx.selectFrom('migration_attempts').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('correlation_id', '=', row.id).where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '<>', 'Released')])).executeTakeFirstOrThrow();
      claimed.push({ ...requestFromRow(row), attempt: Number(n.n), attemptId: Number(a.id) });
    }
    return claimed;
  });
}

/**
 * How long until the earliest request becomes runnable by {@link claimRequests}'s rules (ms from `now`; 0 or less:
 * runnable now), or undefined when none is waiting: a Pending request of a tenant with migration on whose wait ends,
 * with no other request of its user InProgress, or an InProgress request whose lease expires (on PostgreSQL's
 * clock). An idle worker sleeps that long; a plain read, no lock, cheap enough for every wake-up (the Pending part
 * walks the (state, not_before) index).
 */
export async function msUntilRunnable(db: Db, now: number): Promise<number | undefined> {
  const clock = leaseClock(db, now);
  const r = await sql<{ ms: number | string | null }>`
    select min(ms) as ms from (
      select min(r.not_before) - ${now} as ms from migration_requests r join tenants t on t.id = r.tenant_id
      where r.state = 'Pending' and t.meeting_migration_enabled = 1
        and not exists (select 1 from migration_requests o where o.user_id = r.user_id and o.state = 'InProgress')
      union all
      select min(r.lease_expires_at) - ${clock} + 1 as ms from migration_requests r join tenants t on t.id = r.tenant_id
      where r.state = 'InProgress' and t.meeting_migration_enabled = 1
    ) x`.execute(db.kysely);
  const ms = r.rows[0]?.ms;
  return ms === null || ms === undefined ? undefined : Number(ms);
}

/** Extends a lease (on the database's clock on PostgreSQL); false when the worker lost it to another worker. */
export async function renewLease(db: Db, id: string, workerId: string, now: number, leaseMs: number): Promise<boolean> {
  const r = await db.kysely.updateTable('migration_requests')
    .set({ lease_expires_at: sql<number>`${leaseClock(db, now)} + ${leaseMs}` })
    .where('id', '=', id).where('lease_owner', '=', workerId).where('state', '=', 'InProgress')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Why an open request does not run now, for `-Wait` (see {@link whyNotRunning}). */
export type NotRunning =
  | { readonly reason: 'Disabled' }
  | { readonly reason: 'RetryLater'; readonly at: number; readonly lastMessage: string }
  | { readonly reason: 'BehindAbandoned'; readonly blockedBy: string };

/**
 * Why a request does not run now although it is open, for `-Wait`, which must never wait for ever: its tenant has
 * migration turned off, it waits for a retry later than `horizonMs`, or it waits behind a request of the same
 * user whose worker died (its lease expired) and that only a service will take over. Undefined when it runs or
 * will soon.
 */
export async function whyNotRunning(db: Db, id: string, now: number, horizonMs: number): Promise<NotRunning | undefined> {
  const r = await db.kysely.selectFrom('migration_requests as r').innerJoin('tenants as t', 't.id', 'r.tenant_id')
    .select(['r.state', 'r.user_id', 'r.not_before', 'r.last_message', 't.meeting_migration_enabled']).where('r.id', '=', id).executeTakeFirst();
  if (!r || r.state !== 'Pending') return undefined;
  if (!r.meeting_migration_enabled) return { reason: 'Disabled' };
  if (r.not_before > now + horizonMs) return { reason: 'RetryLater', at: r.not_before, lastMessage: r.last_message };
  const abandoned = await db.kysely.selectFrom('migration_requests').select('id').where('user_id', '=', r.user_id).where('state', '=', 'InProgress')
    .where('lease_expires_at', '<', leaseClock(db, now)).executeTakeFirst();
  if (abandoned) return { reason: 'BehindAbandoned', blockedBy: abandoned.id };
  return undefined;
}

/**
 * Opens an undo as a request of its own, InProgress under a lease held by `workerId` with its attempt recorded,
 * the way a claim opens a migration: so an undo whose process dies is taken over (and ended) by a worker once
 * the lease expires instead of blocking the user's migrations for ever. Returns the attempt's id (for endAttempt),
 * or null when a migration of the user is running (an undo must not race it).
 */
export async function openUndoRequest(
  db: Db,
  r: { id: string; tenantId: string; userId: string; migrationType: string; reason: string },
  workerId: string, now: number, leaseMs: number,
): Promise<number | null> {
  return writeTransaction(db, async (tx) => {
    const busy = await tx.selectFrom('migration_requests').select('id').where('user_id', '=', r.userId).where('state', '=', 'InProgress').executeTakeFirst();
    if (busy) return null;
    await tx.insertInto('migration_requests').values({
      id: r.id, tenant_id: r.tenantId, user_id: r.userId, state: 'InProgress', migration_type: r.migrationType,
      trigger_reasons: JSON.stringify([r.reason]), create_date: now, modified_date: now, not_before: now, retry_count: 0,
      total_meeting: 0, succeeded_meeting: 0, failed_meeting: 0, skipped_meeting: 0, invites_update: 0, last_message: '',
      lease_owner: workerId, lease_expires_at: sql<number>`${leaseClock(db, now)} + ${leaseMs}`, ...holderColumns(),
    }).execute();
    const a = await tx.insertInto('migration_attempts').values({ correlation_id: r.id, tenant_id: r.tenantId, worker_id: workerId, started_at: now, ended_at: null, outcome: null })
      .returning('id').executeTakeFirstOrThrow();
    return Number(a.id);
  });
}

/** Closes an attempt row with its outcome (the claim opened it). */
export async function endAttempt(db: Db, attemptId: number, outcome: string, now: number): Promise<void> {
  await db.kysely.updateTable('migration_attempts').set({ ended_at: now, outcome }).where('id', '=', attemptId).execute();
}

export interface RequestCounts {
  readonly totalMeeting: number;
  readonly succeededMeeting: number;
  readonly failedMeeting: number;
  readonly skippedMeeting: number;
  readonly invitesUpdate: number;
}

/** Writes progress counts while the worker still holds the lease. */
export async function saveProgress(db: Db, id: string, workerId: string, counts: RequestCounts, now: number): Promise<void> {
  await db.kysely.updateTable('migration_requests')
    .set({
      total_meeting: counts.totalMeeting, succeeded_meeting: counts.succeededMeeting, failed_meeting: counts.failedMeeting,
      skipped_meeting: counts.skippedMeeting, invites_update: counts.invitesUpdate, modified_date: now,
    })
    .where('id', '=', id).where('lease_owner', '=', workerId)
    .execute();
}

/** Ends a request in its final state. Only the lease holder may. */
export async function finishRequest(
  db: Db,
  id: string,
  workerId: string,
  end: { state: 'Succeeded' | 'Failed'; lastMessage: string; counts?: RequestCounts; retryCount?: number },
  now: number,
): Promise<boolean> {
  const c = end.counts;
  const r = await db.kysely.updateTable('migration_requests')
    .set({
      state: end.state,
      last_message: end.lastMessage,
      modified_date: now,
      lease_owner: null,
      lease_expires_at: null,
      ...NO_HOLDER,
      ...(end.retryCount !== undefined ? { retry_count: end.retryCount } : {}),
      ...(c ? { total_meeting: c.totalMeeting, succeeded_meeting: c.succeededMeeting, failed_meeting: c.failedMeeting, skipped_meeting: c.skippedMeeting, invites_update: c.invitesUpdate } : {}),
    })
    .where('id', '=', id).where('lease_owner', '=', workerId).where('state', '=', 'InProgress')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Puts a transiently failed request back to Pending for a retry at `retryAt`. If the user got a newer Pending
 * request meanwhile (only one may be Pending), that one carries the retry instead: it takes both requests'
 * reasons and MigrationTypes merged, the retry count and a start no earlier than `retryAt`, and this one ends Failed saying so.
 */
export async function retryRequest(
  db: Db,
  id: string,
  workerId: string,
  retry: { retryAt: number; retryCount: number; lastMessage: string },
  now: number,
): Promise<void> {
  await writeTransaction(db, async (tx) => {
    const row = await tx.selectFrom('migration_requests').selectAll().where('id', '=', id).where('lease_owner', '=', workerId).executeTakeFirst();
    if (!row || row.state !== 'InProgress') return;
    const newer = await tx.selectFrom('migration_requests').selectAll().where('user_id', '=', row.user_id).where('state', '=', 'Pending').executeTakeFirst();
    if (!newer) {
      await tx.updateTable('migration_requests')
        .set({ state: 'Pending', not_before: retry.retryAt, retry_count: retry.retryCount, last_message: retry.lastMessage, lease_owner: null, lease_expires_at: null, ...NO_HOLDER, modified_date: now })
        .where('id', '=', id).execute();
      await queueChanged(tx); // other workers (PostgreSQL) set their timers to the retry
      return;
    }
    const reasons = [...new Set([...(JSON.parse(row.trigger_reasons) as string[]), ...(JSON.parse(newer.trigger_reasons) as string[])])];
    await tx.updateTable('migration_requests')
      .set({ trigger_reasons: JSON.stringify(reasons), migration_type: mergedType(newer, row), not_before: Math.max(newer.not_before, retry.retryAt), retry_count: Math.max(newer.retry_count, retry.retryCount), last_message: retry.lastMessage, modified_date: now })
      .where('id', '=', newer.id).execute();
    await queueChanged(tx);
    await tx.updateTable('migration_requests')
      .set({ state: 'Failed', retry_count: retry.retryCount, last_message: `${retry.lastMessage} (the retry runs as the user's newer request ${newer.id})`, lease_owner: null, lease_expires_at: null, ...NO_HOLDER, modified_date: now })
      .where('id', '=', id).execute();
  });
}

/**
 * Gives a request back to the queue at once (SIGTERM): it stays runnable for the next worker. If the user got a
 * newer Pending request meanwhile, that one takes over (with both requests' reasons and MigrationTypes merged) and this one ends Failed
 * saying so; the newer run finds the meetings already done up to date.
 */
export async function releaseRequest(db: Db, id: string, workerId: string, now: number): Promise<void> {
  await writeTransaction(db, async (tx) => {
    const row = await tx.selectFrom('migration_requests').selectAll().where('id', '=', id).where('lease_owner', '=', workerId).executeTakeFirst();
    if (!row || row.state !== 'InProgress') return;
    // A give-back at shutdown is not a failed attempt: it does not count against MMS_RETRY_ATTEMPTS.
    await tx.updateTable('migration_attempts').set({ ended_at: now, outcome: 'Released' })
      .where('correlation_id', '=', id).where('worker_id', '=', workerId).where('ended_at', 'is', null).execute();
    const newer = await tx.selectFrom('migration_requests').selectAll().where('user_id', '=', row.user_id).where('state', '=', 'Pending').executeTakeFirst();
    // Runnable at once: another worker (PostgreSQL) takes it up now rather than at its next poll.
    await queueChanged(tx);
    if (newer) {
      const reasons = [...new Set([...(JSON.parse(row.trigger_reasons) as string[]), ...(JSON.parse(newer.trigger_reasons) as string[])])];
      await tx.updateTable('migration_requests').set({ trigger_reasons: JSON.stringify(reasons), migration_type: mergedType(newer, row), not_before: Math.min(newer.not_before, now) }).where('id', '=', newer.id).execute();
      await tx.updateTable('migration_requests').set({ state: 'Failed', last_message: `stopped at shutdown; the user's newer request ${newer.id} finishes the work`, lease_owner: null, lease_expires_at: null, ...NO_HOLDER, modified_date: now }).where('id', '=', id).execute();
      return;
    }
    await tx.updateTable('migration_requests').set({ state: 'Pending', not_before: now, lease_owner: null, lease_expires_at: null, ...NO_HOLDER, modified_date: now }).where('id', '=', id).execute();
  });
}

/** Requests pruned per write transaction: a long history goes away in short transactions, never one that holds the lock. */
const PRUNE_CHUNK = 100;

/**
 * Deletes finished requests (and their meeting rows and attempts) last modified before `before`, PRUNE_CHUNK
 * requests per transaction (a year's history of a large tenant in one transaction would hold SQLite's write lock
 * for as long as it takes, and every command would wait).
 */
export async function pruneHistory(db: Db, before: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await writeTransaction(db, async (tx) => {
      const ids = (await tx.selectFrom('migration_requests').select('id').where('state', 'in', ['Succeeded', 'Failed']).where('modified_date', '<', before).limit(PRUNE_CHUNK).execute()).map((r) => r.id);
      if (!ids.length) return 0;
      await tx.deleteFrom('migration_meetings').where('correlation_id', 'in', ids).execute();
      await tx.deleteFrom('migration_attempts').where('correlation_id', 'in', ids).execute();
      await tx.deleteFrom('migration_requests').where('id', 'in', ids).execute();
      return ids.length;
    });
    deleted += n;
    if (n < PRUNE_CHUNK) return deleted;
  }
}

export async function getRequest(db: Db, id: string): Promise<MigrationRequest | undefined> {
  const r = await db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', id).executeTakeFirst();
  return r && requestFromRow(r);
}
