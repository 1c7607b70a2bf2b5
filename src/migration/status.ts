import type { Db } from '../store/index.js';
import type { Tenant } from '../domain/directory.js';
import { usageError } from '../domain/errors.js';
import type { MigrationState } from '../domain/migration.js';
import { requireUser } from '../store/directory-repo.js';
import { listMeetingRows } from '../store/ledger-repo.js';
import { listOutbox } from '../store/outbox-repo.js';
import type { OutboxTable } from '../store/schema.js';

/** The reference's fields, in its order, then ours. */
export const STATUS_FIELDS = [
  'CorrelationId', 'UserId', 'UserPrincipalName', 'State', 'MigrationType', 'CreateDate', 'ModifiedDate', 'RetryCount',
  'TotalMeeting', 'SucceededMeeting', 'FailedMeeting', 'InvitesUpdate', 'LastMessage',
  'SkippedMeeting', 'TriggerReasons', 'NotBefore', 'QueuePosition',
] as const;

/** Names the docs used before (LastErrorMessage in 2018) and still accepted. */
const FIELD_ALIASES: Record<string, (typeof STATUS_FIELDS)[number]> = { lasterrormessage: 'LastMessage', identity: 'UserPrincipalName' };

export interface StatusFilter {
  readonly identity?: string;
  readonly state?: MigrationState;
  readonly start?: number;
  readonly end?: number;
}

async function userIdOf(db: Db, tenant: Tenant, identity: string | undefined): Promise<string | undefined> {
  if (!identity) return undefined;
  return (await requireUser(db.kysely, tenant.id, identity)).id;
}

/**
 * Get-CsMeetingMigrationStatus rows. A Pending request also shows when it may run (NotBefore) and where it
 * stands in the queue (QueuePosition: 1 runs next), which the reference does not tell.
 */
export async function migrationStatus(db: Db, tenant: Tenant, filter: StatusFilter = {}) {
  const userId = await userIdOf(db, tenant, filter.identity);
  let q = db.kysely.selectFrom('migration_requests as r').innerJoin('users as u', 'u.id', 'r.user_id')
    .selectAll('r').select('u.upn').where('r.tenant_id', '=', tenant.id);
  if (userId) q = q.where('r.user_id', '=', userId);
  if (filter.state) q = q.where('r.state', '=', filter.state);
  if (filter.start !== undefined) q = q.where('r.create_date', '>=', filter.start);
  if (filter.end !== undefined) q = q.where('r.create_date', '<=', filter.end);
  const rows = await q.orderBy('r.create_date').orderBy('r.modified_date').execute();
  // The position among the tenant's own Pending requests: other tenants' queues are not theirs to see.
  const queue = await db.kysely.selectFrom('migration_requests').select('id')
    .where('tenant_id', '=', tenant.id).where('state', '=', 'Pending').orderBy('not_before').orderBy('create_date').execute();
  const position = new Map(queue.map((r, i) => [r.id, i + 1]));
  return rows.map((r) => ({
    CorrelationId: r.id,
    UserId: r.user_id,
    UserPrincipalName: r.upn,
    State: r.state,
    MigrationType: r.migration_type,
    CreateDate: r.create_date,
    ModifiedDate: r.modified_date,
    RetryCount: r.retry_count,
    TotalMeeting: r.total_meeting,
    SucceededMeeting: r.succeeded_meeting,
    FailedMeeting: r.failed_meeting,
    InvitesUpdate: r.invites_update,
    LastMessage: r.last_message,
    SkippedMeeting: r.skipped_meeting,
    TriggerReasons: JSON.parse(r.trigger_reasons) as string[],
    NotBefore: r.state === 'Pending' ? r.not_before : null,
    QueuePosition: position.get(r.id) ?? null,
  }));
}

/** -SummaryOnly: State and UserCount, each user counted once, by their latest request. */
export async function migrationSummary(db: Db, tenant: Tenant, filter: StatusFilter = {}) {
  const rows = await migrationStatus(db, tenant, { ...filter, state: undefined });
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) latest.set(r.UserId, r); // rows come oldest first
  const states: MigrationState[] = ['Pending', 'InProgress', 'Failed', 'Succeeded'];
  return states
    .filter((s) => !filter.state || s === filter.state)
    .map((State) => ({ State, UserCount: [...latest.values()].filter((r) => r.State === State).length }));
}

/** Resolves -Property names (case-insensitive, old names accepted) to the documented field names. */
export function statusProperties(names: readonly string[]): Array<(typeof STATUS_FIELDS)[number]> {
  return names.map((n) => {
    const key = n.trim().toLowerCase();
    const hit = STATUS_FIELDS.find((f) => f.toLowerCase() === key) ?? FIELD_ALIASES[key];
    if (!hit) throw usageError(`-Property ${n} is not a field of Get-CsMeetingMigrationStatus: use ${STATUS_FIELDS.join(', ')}`);
    return hit;
  });
}

/** Get-CsMeetingMigrationTransactionHistory: one row per meeting a migration touched. */
export async function transactionHistory(db: Db, tenant: Tenant, filter: { identity: string; correlationId?: string; start?: number; end?: number }) {
  const userId = (await userIdOf(db, tenant, filter.identity)) as string;
  const rows = await listMeetingRows(db.kysely, { userId, correlationId: filter.correlationId, start: filter.start, end: filter.end });
  return rows.map((r) => ({
    CorrelationId: r.correlation_id,
    Uid: r.uid,
    Subject: r.subject,
    StartTime: r.start_time,
    Action: r.action,
    Reason: r.reason,
    AttendeesNotified: r.attendees_notified,
    Time: r.at,
  }));
}

/** Get-MmsOutbox: notifications, newest last. */
export async function outbox(db: Db, tenant: Tenant, filter: { identity?: string; state?: OutboxTable['state']; correlationId?: string } = {}) {
  const organizerId = await userIdOf(db, tenant, filter.identity);
  const rows = await listOutbox(db.kysely, tenant.id, { organizerId, state: filter.state, correlationId: filter.correlationId });
  return rows.map((r) => ({
    Id: Number(r.id),
    CorrelationId: r.correlation_id,
    Uid: r.uid,
    Recipient: r.recipient,
    Delivery: r.internal ? 'MailboxCopyUpdated' : 'iMIP',
    Method: r.method,
    State: r.state,
    CreatedAt: r.created_at,
    SentAt: r.sent_at,
  }));
}
