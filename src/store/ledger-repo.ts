import { sql, type Kysely } from 'kysely';
import type { Database, MigrationMeetingTable } from './schema.js';

type K = Kysely<Database>;

export type MeetingAction = MigrationMeetingTable['action'];

export interface LedgerRow {
  readonly correlationId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly uid: string;
  readonly subject: string;
  readonly startTime: number | null;
  readonly action: MeetingAction;
  readonly reason: string;
  readonly attendeesNotified: number;
  readonly at: number;
  readonly versionWritten: number | null;
  readonly previousBlock: string | null;
}

const toRow = (r: LedgerRow) => ({
  correlation_id: r.correlationId,
  tenant_id: r.tenantId,
  user_id: r.userId,
  uid: r.uid,
  subject: r.subject,
  start_time: r.startTime,
  action: r.action,
  reason: r.reason,
  attendees_notified: r.attendeesNotified,
  at: r.at,
  version_written: r.versionWritten,
  previous_block: r.previousBlock,
});

/**
 * Records what a migration did to each meeting, one row per meeting per migration. A re-run of the same request
 * (after a crash or a retry) overwrites its row, except that an `Updated` row stays: the meeting was changed and
 * announced by this migration, and a later look that finds it up to date must not hide that.
 */
export async function recordMeetings(k: K, rows: readonly LedgerRow[]): Promise<void> {
  if (!rows.length) return;
  await k.insertInto('migration_meetings').values(rows.map(toRow))
    .onConflict((oc) => oc.columns(['correlation_id', 'uid']).doUpdateSet({
      action: (eb) => eb.ref('excluded.action'),
      reason: (eb) => eb.ref('excluded.reason'),
      attendees_notified: (eb) => eb.ref('excluded.attendees_notified'),
      at: (eb) => eb.ref('excluded.at'),
      version_written: (eb) => eb.ref('excluded.version_written'),
      previous_block: (eb) => eb.ref('excluded.previous_block'),
    }).where('migration_meetings.action', '<>', sql.lit('Updated')))
    .execute();
}

/** Counts by action for one migration: the request's TotalMeeting, SucceededMeeting, … */
export async function countMeetings(k: K, correlationId: string) {
  const rows = await k.selectFrom('migration_meetings')
    .select(['action', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('attendees_notified').as('notified')])
    .where('correlation_id', '=', correlationId)
    .groupBy('action')
    .execute();
  const by = (a: MeetingAction) => Number(rows.find((r) => r.action === a)?.n ?? 0);
  return {
    totalMeeting: rows.reduce((s, r) => s + Number(r.n), 0),
    succeededMeeting: by('Updated') + by('UpToDate') + by('Restored'),
    failedMeeting: by('Failed'),
    skippedMeeting: by('Skipped'),
    invitesUpdate: by('Updated') + by('Restored'),
  };
}

export async function listMeetingRows(k: K, filter: { userId: string; correlationId?: string; start?: number; end?: number }) {
  let q = k.selectFrom('migration_meetings').selectAll().where('user_id', '=', filter.userId);
  if (filter.correlationId) q = q.where('correlation_id', '=', filter.correlationId);
  if (filter.start !== undefined) q = q.where('at', '>=', filter.start);
  if (filter.end !== undefined) q = q.where('at', '<=', filter.end);
  return q.orderBy('at').orderBy('id').execute();
}

/** The first failure of a migration, for LastMessage. */
export async function firstFailure(k: K, correlationId: string): Promise<{ uid: string; reason: string } | undefined> {
  return k.selectFrom('migration_meetings').select(['uid', 'reason'])
    .where('correlation_id', '=', correlationId).where('action', '=', 'Failed')
    .orderBy('id').limit(1).executeTakeFirst();
}

/**
 * Meetings an earlier undo of a migration restored, by uid → the undo's CorrelationId: the undo requests of
 * `userId` whose TriggerReasons are `[reason]` (`Undo:<id>`), and their `Restored` ledger rows.
 */
export async function restoredBy(k: K, userId: string, reason: string): Promise<Map<string, string>> {
  const rows = await k.selectFrom('migration_meetings as m').innerJoin('migration_requests as r', 'r.id', 'm.correlation_id')
    .select(['m.uid', 'm.correlation_id']).where('r.user_id', '=', userId).where('r.trigger_reasons', '=', JSON.stringify([reason]))
    .where('m.action', '=', 'Restored').orderBy('m.id').execute();
  return new Map(rows.map((r) => [r.uid, r.correlation_id]));
}
