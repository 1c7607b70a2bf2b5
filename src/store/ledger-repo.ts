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
  /** The meeting's type before and after this migration (issue 12): they differ when it was converted. */
  readonly meetingType?: 'SfB' | 'Teams' | null;
  readonly newMeetingType?: 'SfB' | 'Teams' | null;
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
  meeting_type: r.meetingType ?? null,
  new_meeting_type: r.newMeetingType ?? null,
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
      meeting_type: (eb) => eb.ref('excluded.meeting_type'),
      new_meeting_type: (eb) => eb.ref('excluded.new_meeting_type'),
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
  const rows = await k.selectFrom('migration_meetings as m').innerJoin('migration_requests as r', (j) => j.onRef('r.tenant_id', '=', 'm.tenant_id').onRef('r.id', '=', 'm.correlation_id'))
    .select(['m.uid', 'm.correlation_id']).where('r.user_id', '=', userId).where('r.trigger_reasons', '=', JSON.stringify([reason]))
    .where('m.action', '=', 'Restored').orderBy('m.id').execute();
  return new Map(rows.map((r) => [r.uid, r.correlation_id]));
}

/** An internal attendee's damaged copy that a migration or undo replaced (or left alone), with its text. */
export interface CopyDamageRow {
  readonly correlationId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly uid: string;
  readonly subject: string;
  readonly startTime: number | null;
  readonly attendeeId: string;
  readonly attendee: string;
  readonly reason: string;
  readonly damagedIcs: string;
  readonly versionWritten: number | null;
  readonly at: number;
}

/**
 * Records damaged attendee copies, one row per (migration, meeting, attendee), in the caller's transaction so the
 * record commits with the replacement. A re-run (crash, retry) updates the row, except that the damaged text first
 * kept stays: a second look would only find our own replacement.
 */
export async function recordCopyDamage(k: K, rows: readonly CopyDamageRow[]): Promise<void> {
  if (!rows.length) return;
  await k.insertInto('attendee_copy_damage').values(rows.map((r) => ({
    correlation_id: r.correlationId, tenant_id: r.tenantId, user_id: r.userId, uid: r.uid, subject: r.subject, start_time: r.startTime,
    attendee_id: r.attendeeId, attendee: r.attendee, reason: r.reason, damaged_ics: r.damagedIcs, version_written: r.versionWritten, at: r.at,
  }))).onConflict((oc) => oc.columns(['correlation_id', 'uid', 'attendee_id']).doUpdateSet({
    reason: (eb) => eb.ref('excluded.reason'),
    version_written: (eb) => eb.ref('excluded.version_written'),
    at: (eb) => eb.ref('excluded.at'),
  })).execute();
}

/** The damaged copies a migration replaced, for undo: by `uid\0attendeeId`. */
export async function copyDamageOf(k: K, correlationId: string): Promise<Map<string, { damagedIcs: string; versionWritten: number | null }>> {
  const rows = await k.selectFrom('attendee_copy_damage').select(['uid', 'attendee_id', 'damaged_ics', 'version_written'])
    .where('correlation_id', '=', correlationId).execute();
  return new Map(rows.map((r) => [`${r.uid}\u0000${r.attendee_id}`, { damagedIcs: r.damaged_ics, versionWritten: r.version_written }]));
}

/** A window of a listing: `limit` rows after skipping `offset` (PowerShell's -First / -Skip). */
export interface Page {
  readonly limit: number;
  readonly offset: number;
}

type HistoryFilter = { userId: string; correlationId?: string; start?: number; end?: number };

/**
 * Get-CsMeetingMigrationTransactionHistory rows: the per-meeting ledger and the damaged attendee copies merged in
 * time order (`kind` tells them apart), one page of them, and the true total counted by the database.
 */
export async function listHistory(k: K, filter: HistoryFilter, page: Page) {
  // The same filter on both tables (they share these column names).
  const filtered = (table: 'migration_meetings' | 'attendee_copy_damage') => {
    let q = k.selectFrom(table as 'migration_meetings').where('user_id', '=', filter.userId);
    if (filter.correlationId) q = q.where('correlation_id', '=', filter.correlationId);
    if (filter.start !== undefined) q = q.where('at', '>=', filter.start);
    if (filter.end !== undefined) q = q.where('at', '<=', filter.end);
    return q;
  };
  // Both sources ordered by (at, id): the first offset+limit of each hold the page of the merge.
  const upTo = page.offset + page.limit;
  const meetings = await filtered('migration_meetings').selectAll().orderBy('at').orderBy('id').limit(upTo).execute();
  const damaged = (await filtered('attendee_copy_damage').selectAll().orderBy('at').orderBy('id').limit(upTo).execute()) as unknown as Array<Database['attendee_copy_damage'] & { id: number }>;
  const count = async (table: 'migration_meetings' | 'attendee_copy_damage') =>
    Number((await filtered(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  const total = (await count('migration_meetings')) + (await count('attendee_copy_damage'));
  const merged = [
    ...meetings.map((r) => ({ kind: 'meeting' as const, row: r, at: r.at, id: Number(r.id) })),
    ...damaged.map((r) => ({ kind: 'damage' as const, row: r, at: r.at, id: Number(r.id) })),
  ].sort((a, b) => a.at - b.at || (a.kind === b.kind ? a.id - b.id : a.kind === 'meeting' ? -1 : 1));
  return { rows: merged.slice(page.offset, upTo), total };
}
