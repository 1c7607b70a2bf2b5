import { sql } from 'kysely';
import type { Db } from './db.js';
import { requestFromRow, type MigrationRequest } from './requests-repo.js';
import { writeTransaction } from './transaction.js';

/**
 * The migration queue: the request row is the queue entry and the status record. A request is runnable when it
 * is Pending and its wait is over (and its tenant has migration enabled, and no other request of the same user is
 * InProgress), or when it is InProgress with an expired lease (its worker died).
 */
export async function claimRequests(db: Db, workerId: string, now: number, leaseMs: number, limit = 1, only?: readonly string[]): Promise<MigrationRequest[]> {
  const expires = now + leaseMs;
  // `only` restricts the claim to given requests (Start-CsExMeetingMigration -Wait runs its own, not others').
  const restrict = only ? sql`and r.id in (${sql.join(only.length ? [...only] : [''])})` : sql``;
  const runnable = sql`
    select r.id from migration_requests r join tenants t on t.id = r.tenant_id
    where t.meeting_migration_enabled = 1 and (
      (r.state = 'Pending' and r.not_before <= ${now}
        and not exists (select 1 from migration_requests o where o.user_id = r.user_id and o.state = 'InProgress'))
      or (r.state = 'InProgress' and r.lease_expires_at < ${now})) ${restrict}
    order by r.not_before, r.create_date
    limit ${limit}`;
  if (db.dialect === 'postgres') {
    const r = await sql<any>`
      update migration_requests set state = 'InProgress', lease_owner = ${workerId}, lease_expires_at = ${expires}, modified_date = ${now}
      where id in (${runnable} for update of r skip locked)
      returning *`.execute(db.kysely);
    return r.rows.map(requestFromRow);
  }
  return writeTransaction(db, async (tx) => {
    const ids = await sql<{ id: string }>`${runnable}`.execute(tx);
    if (!ids.rows.length) return [];
    const rows = await tx.updateTable('migration_requests')
      .set({ state: 'InProgress', lease_owner: workerId, lease_expires_at: expires, modified_date: now })
      .where('id', 'in', ids.rows.map((x) => x.id))
      .returningAll()
      .execute();
    return rows.map(requestFromRow);
  });
}

/** Extends a lease; false when the worker lost it (another worker reclaimed the request). */
export async function renewLease(db: Db, id: string, workerId: string, now: number, leaseMs: number): Promise<boolean> {
  const r = await db.kysely.updateTable('migration_requests')
    .set({ lease_expires_at: now + leaseMs })
    .where('id', '=', id).where('lease_owner', '=', workerId).where('state', '=', 'InProgress')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
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
 * reasons, the retry count and a start no earlier than `retryAt`, and this one ends Failed saying so.
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
        .set({ state: 'Pending', not_before: retry.retryAt, retry_count: retry.retryCount, last_message: retry.lastMessage, lease_owner: null, lease_expires_at: null, modified_date: now })
        .where('id', '=', id).execute();
      return;
    }
    const reasons = [...new Set([...(JSON.parse(row.trigger_reasons) as string[]), ...(JSON.parse(newer.trigger_reasons) as string[])])];
    await tx.updateTable('migration_requests')
      .set({ trigger_reasons: JSON.stringify(reasons), not_before: Math.max(newer.not_before, retry.retryAt), retry_count: Math.max(newer.retry_count, retry.retryCount), last_message: retry.lastMessage, modified_date: now })
      .where('id', '=', newer.id).execute();
    await tx.updateTable('migration_requests')
      .set({ state: 'Failed', retry_count: retry.retryCount, last_message: `${retry.lastMessage} (the retry runs as the user's newer request ${newer.id})`, lease_owner: null, lease_expires_at: null, modified_date: now })
      .where('id', '=', id).execute();
  });
}

/**
 * Gives a request back to the queue at once (SIGTERM): it stays runnable for the next worker. If the user got a
 * newer Pending request meanwhile, that one takes over (with both requests' reasons) and this one ends Failed
 * saying so; the newer run finds the meetings already done up to date.
 */
export async function releaseRequest(db: Db, id: string, workerId: string, now: number): Promise<void> {
  await writeTransaction(db, async (tx) => {
    const row = await tx.selectFrom('migration_requests').selectAll().where('id', '=', id).where('lease_owner', '=', workerId).executeTakeFirst();
    if (!row || row.state !== 'InProgress') return;
    const newer = await tx.selectFrom('migration_requests').selectAll().where('user_id', '=', row.user_id).where('state', '=', 'Pending').executeTakeFirst();
    if (newer) {
      const reasons = [...new Set([...(JSON.parse(row.trigger_reasons) as string[]), ...(JSON.parse(newer.trigger_reasons) as string[])])];
      await tx.updateTable('migration_requests').set({ trigger_reasons: JSON.stringify(reasons), not_before: Math.min(newer.not_before, now) }).where('id', '=', newer.id).execute();
      await tx.updateTable('migration_requests').set({ state: 'Failed', last_message: `stopped at shutdown; the user's newer request ${newer.id} finishes the work`, lease_owner: null, lease_expires_at: null, modified_date: now }).where('id', '=', id).execute();
      return;
    }
    await tx.updateTable('migration_requests').set({ state: 'Pending', not_before: now, lease_owner: null, lease_expires_at: null, modified_date: now }).where('id', '=', id).execute();
  });
}

/** Deletes finished requests (and their meeting rows and attempts) last modified before `before`. */
export async function pruneHistory(db: Db, before: number): Promise<number> {
  return writeTransaction(db, async (tx) => {
    const old = tx.selectFrom('migration_requests').select('id').where('state', 'in', ['Succeeded', 'Failed']).where('modified_date', '<', before);
    await tx.deleteFrom('migration_meetings').where('correlation_id', 'in', old).execute();
    await tx.deleteFrom('migration_attempts').where('correlation_id', 'in', old).execute();
    const r = await tx.deleteFrom('migration_requests').where('state', 'in', ['Succeeded', 'Failed']).where('modified_date', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  });
}

export async function getRequest(db: Db, id: string): Promise<MigrationRequest | undefined> {
  const r = await db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', id).executeTakeFirst();
  return r && requestFromRow(r);
}
