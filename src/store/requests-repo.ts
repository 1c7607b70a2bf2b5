import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { MigrationState, MigrationType } from '../domain/migration.js';
import { mergeMigrationTypes } from '../domain/trigger-rules.js';
import type { Database, MigrationRequestTable } from './schema.js';
import { queueChanged } from './wake-signal.js';

type K = Kysely<Database>;

export interface MigrationRequest {
  readonly correlationId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly state: MigrationState;
  readonly migrationType: MigrationType;
  readonly triggerReasons: readonly string[];
  readonly createDate: number;
  readonly modifiedDate: number;
  readonly notBefore: number;
  readonly retryCount: number;
  readonly totalMeeting: number;
  readonly succeededMeeting: number;
  readonly failedMeeting: number;
  readonly skippedMeeting: number;
  readonly invitesUpdate: number;
  readonly lastMessage: string;
}

export function requestFromRow(r: MigrationRequestTable): MigrationRequest {
  return {
    correlationId: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    state: r.state,
    migrationType: r.migration_type as MigrationType,
    triggerReasons: JSON.parse(r.trigger_reasons) as string[],
    createDate: r.create_date,
    modifiedDate: r.modified_date,
    notBefore: r.not_before,
    retryCount: r.retry_count,
    totalMeeting: r.total_meeting,
    succeededMeeting: r.succeeded_meeting,
    failedMeeting: r.failed_meeting,
    skippedMeeting: r.skipped_meeting,
    invitesUpdate: r.invites_update,
    lastMessage: r.last_message,
  };
}

/**
 * Records that a user's meetings need migrating. A trigger is an upsert: it merges into the user's Pending request
 * (reasons appended; the wait runs from the last trigger; the MigrationTypes merged by mergeMigrationTypes, e.g. a
 * ToSameType request and an SfbToTeams trigger make one AllToTeams request) instead of adding another, so a burst of
 * changes gives one round of updates. A request already InProgress is left alone and a follow-up Pending one is created.
 */
export async function enqueueMigration(
  k: K,
  input: { tenantId: string; userId: string; reason: string; now: number; notBefore: number; migrationType?: MigrationType },
): Promise<{ correlationId: string; coalesced: boolean; migrationType: MigrationType; mergedFrom?: MigrationType }> {
  const id = randomUUID();
  const inserted = await k.insertInto('migration_requests').values({
    id,
    tenant_id: input.tenantId,
    user_id: input.userId,
    state: 'Pending',
    migration_type: input.migrationType ?? 'ToSameType',
    trigger_reasons: JSON.stringify([input.reason]),
    create_date: input.now,
    modified_date: input.now,
    not_before: input.notBefore,
    retry_count: 0,
    total_meeting: 0,
    succeeded_meeting: 0,
    failed_meeting: 0,
    skipped_meeting: 0,
    invites_update: 0,
    last_message: '',
    lease_owner: null,
    lease_expires_at: null,
  })
    // The target repeats the partial index's predicate as a literal: SQLite only matches the index that way.
    .onConflict((oc) => oc.column('user_id').where(sql.ref('state'), '=', sql.lit('Pending')).doNothing())
    .returning('id')
    .executeTakeFirst();
  // An idle worker sleeps until the earliest runnable request: this one may be earlier (see wake-signal.ts).
  if (inserted) await queueChanged(k);
  if (inserted) return { correlationId: id, coalesced: false, migrationType: input.migrationType ?? 'ToSameType' };

  const existing = await k.selectFrom('migration_requests').selectAll()
    .where('user_id', '=', input.userId).where('state', '=', 'Pending').executeTakeFirstOrThrow();
  const reasons = JSON.parse(existing.trigger_reasons) as string[];
  if (!reasons.includes(input.reason)) reasons.push(input.reason);
  const migrationType = mergeMigrationTypes(existing.migration_type as MigrationType, input.migrationType ?? 'ToSameType');
  await k.updateTable('migration_requests')
    .set({ trigger_reasons: JSON.stringify(reasons), migration_type: migrationType, modified_date: input.now, not_before: input.notBefore })
    .where('id', '=', existing.id)
    .execute();
  await queueChanged(k); // its not_before moved
  return { correlationId: existing.id, coalesced: true, migrationType, mergedFrom: existing.migration_type as MigrationType };
}

/** The MigrationType of a request that takes over another's work (a retry or a give-back merged into the newer Pending one). */
export const mergedType = (a: { migration_type: string }, b: { migration_type: string }): MigrationType =>
  mergeMigrationTypes(a.migration_type as MigrationType, b.migration_type as MigrationType);

export async function listRequests(k: K, tenantId: string, filter: { userId?: string; state?: MigrationState } = {}): Promise<MigrationRequest[]> {
  let q = k.selectFrom('migration_requests').selectAll().where('tenant_id', '=', tenantId);
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.state) q = q.where('state', '=', filter.state);
  const rows = await q.orderBy('create_date').orderBy('modified_date').execute();
  return rows.map(requestFromRow);
}
