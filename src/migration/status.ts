import { sql } from 'kysely';
import type { Db } from '../store/index.js';
import type { Tenant } from '../domain/directory.js';
import { usageError } from '../domain/errors.js';
import type { MigrationState, MigrationType } from '../domain/migration.js';
import { requireUser } from '../store/directory-repo.js';
import { resolveCorrelationId } from './resolve-correlation-id.js';
import { listHistory } from '../store/ledger-repo.js';
import { listOutbox, type OutboxKindFilter } from '../store/outbox-repo.js';
import { latestStateCounts } from '../store/status-repo.js';
import { outboxFields } from './outbox-view.js';
import type { OutboxTable } from '../store/schema.js';

/** The reference's fields, in its order, then ours. */
export const STATUS_FIELDS = [
  'CorrelationId', 'UserId', 'UserPrincipalName', 'State', 'MigrationType', 'CreateDate', 'ModifiedDate', 'RetryCount',
  'TotalMeeting', 'SucceededMeeting', 'FailedMeeting', 'InvitesUpdate', 'LastMessage',
  'SkippedMeeting', 'TriggerReasons', 'NotBefore', 'QueuePosition',
] as const;

/** Names the docs used before (LastErrorMessage in 2018) and still accepted. */
const FIELD_ALIASES: Record<string, (typeof STATUS_FIELDS)[number]> = { lasterrormessage: 'LastMessage', identity: 'UserPrincipalName' };

/** A window of a listing (PowerShell's -First / -Skip); without `first` every row from `skip` on. */
export interface PageRequest {
  readonly first?: number;
  readonly skip?: number;
}

const ALL = Number.MAX_SAFE_INTEGER;
const window = (p: PageRequest) => ({ limit: p.first ?? ALL, offset: p.skip ?? 0 });

export interface StatusFilter {
  readonly identity?: string;
  readonly state?: MigrationState;
  /** Only requests of this MigrationType (module 2.6's -MigrationType). */
  readonly migrationType?: MigrationType;
  readonly start?: number;
  readonly end?: number;
  /** Only each user's latest request (the one -SummaryOnly counts them by): a Failed one that was retried since is left out. */
  readonly latest?: boolean;
  /** One request: its whole CorrelationId or an unambiguous prefix (the admin center's request page reads it so). */
  readonly correlationId?: string;
}

/**
 * The user `identity` names; undefined (every user) only when no identity was given. An empty or blank one is
 * refused, not read as "no filter": a caller (the REST API too) must not list every user by accident.
 */
async function userIdOf(db: Db, tenant: Tenant, identity: string | undefined): Promise<string | undefined> {
  if (identity === undefined) return undefined;
  if (identity.trim() === '') throw usageError('-Identity is empty: give a user\'s UPN or SIP address, e.g. ashaw@contoso.com, or leave -Identity out');
  return (await requireUser(db.kysely, tenant.id, identity)).id;
}

/** A CorrelationId filter as given (whole or an unambiguous prefix, see resolveCorrelationId), resolved. */
const correlationIdOf = async (db: Db, tenant: Tenant, text: string | undefined): Promise<string | undefined> =>
  (text === undefined ? undefined : resolveCorrelationId(db, tenant, text));

/**
 * Get-CsMeetingMigrationStatus rows. A Pending request also shows when it may run (NotBefore) and where it
 * stands in the queue (QueuePosition: 1 runs next), which the reference does not tell.
 */
export async function migrationStatus(db: Db, tenant: Tenant, filter: StatusFilter = {}) {
  return (await migrationStatusPage(db, tenant, filter)).rows;
}

/** Get-CsMeetingMigrationStatus rows, one page of them (-First / -Skip), and the total the filter matches. */
export async function migrationStatusPage(db: Db, tenant: Tenant, filter: StatusFilter = {}, page: PageRequest = {}) {
  const userId = await userIdOf(db, tenant, filter.identity);
  const correlationId = await correlationIdOf(db, tenant, filter.correlationId);
  const filtered = () => {
    let q = db.kysely.selectFrom('migration_requests as r').innerJoin('users as u', (j) => j.onRef('u.tenant_id', '=', 'r.tenant_id').onRef('u.id', '=', 'r.user_id')).where('r.tenant_id', '=', tenant.id);
    if (userId !== undefined) q = q.where('r.user_id', '=', userId);
    if (correlationId !== undefined) q = q.where('r.id', '=', correlationId);
    if (filter.state) q = q.where('r.state', '=', filter.state);
    if (filter.migrationType) q = q.where('r.migration_type', '=', filter.migrationType);
    if (filter.start !== undefined) q = q.where('r.create_date', '>=', filter.start);
    if (filter.end !== undefined) q = q.where('r.create_date', '<=', filter.end);
    // Latest in the listing's own order (create_date, modified_date, id) among all the user's requests, not only
    // those inside StartTime/EndTime (-SummaryOnly counts the latest inside the window): a failure retried since is
    // never listed, whatever the window.
    if (filter.latest) {
      q = q.where(sql<boolean>`not exists (select 1 from migration_requests n where n.tenant_id = r.tenant_id and n.user_id = r.user_id and (n.create_date > r.create_date or (n.create_date = r.create_date and (n.modified_date > r.modified_date or (n.modified_date = r.modified_date and n.id > r.id)))))`);
    }
    return q;
  };
  const { limit, offset } = window(page);
  const rows = await filtered().selectAll('r').select('u.upn').orderBy('r.create_date').orderBy('r.modified_date').orderBy('r.id').limit(limit).offset(offset).execute();
  const total = Number((await filtered().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  // The position among the tenant's own Pending requests: other tenants' queues are not theirs to see.
  const queue = await db.kysely.selectFrom('migration_requests').select('id')
    .where('tenant_id', '=', tenant.id).where('state', '=', 'Pending').orderBy('not_before').orderBy('create_date').execute();
  const position = new Map(queue.map((r, i) => [r.id, i + 1]));
  return {
    total,
    skip: offset,
    rows: rows.map((r) => ({
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
    })),
  };
}

/** -SummaryOnly: State and UserCount, each user counted once, by their latest request. */
export async function migrationSummary(db: Db, tenant: Tenant, filter: StatusFilter = {}) {
  const userId = await userIdOf(db, tenant, filter.identity);
  const counts = await latestStateCounts(db, tenant.id, { userId, start: filter.start, end: filter.end });
  const states: MigrationState[] = ['Pending', 'InProgress', 'Failed', 'Succeeded'];
  return states
    .filter((s) => !filter.state || s === filter.state)
    .map((State) => ({ State, UserCount: counts.get(State) ?? 0 }));
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

/** Get-CsMeetingMigrationTransactionHistory: one row per meeting a migration touched, and one per damaged attendee copy. */
export async function transactionHistory(db: Db, tenant: Tenant, filter: HistoryFilter) {
  return (await transactionHistoryPage(db, tenant, filter)).rows;
}

type HistoryFilter = { identity: string; correlationId?: string; start?: number; end?: number };

/**
 * One page of the transaction history and its true total. An internal attendee's copy that no longer parsed
 * shows as its own row, Action `AttendeeCopyDamaged` (an undo that gives it its own text back:
 * `AttendeeCopyPutBack`), naming the attendee in Attendee and Reason (their damaged text is kept for undo).
 */
export async function transactionHistoryPage(db: Db, tenant: Tenant, filter: HistoryFilter, page: PageRequest = {}) {
  const userId = (await userIdOf(db, tenant, filter.identity)) as string;
  const correlationId = await correlationIdOf(db, tenant, filter.correlationId);
  const { limit, offset } = window(page);
  const { rows, total } = await listHistory(db.kysely, { userId, correlationId, start: filter.start, end: filter.end }, { limit, offset });
  return {
    total,
    skip: offset,
    rows: rows.map((x) => (x.kind === 'meeting'
      ? {
        CorrelationId: x.row.correlation_id, Uid: x.row.uid, Subject: x.row.subject, StartTime: x.row.start_time, Action: x.row.action as string,
        Reason: x.row.reason, AttendeesNotified: x.row.attendees_notified, Time: x.row.at, Attendee: null as string | null,
        // Issue 12: the meeting's type before and after this migration (they differ when it was converted).
        MeetingType: (x.row.meeting_type ?? '') as string, NewMeetingType: (x.row.new_meeting_type ?? '') as string,
      }
      : {
        CorrelationId: x.row.correlation_id, Uid: x.row.uid, Subject: x.row.subject, StartTime: x.row.start_time, Action: x.row.reason.slice(0, x.row.reason.indexOf(':')) || 'AttendeeCopyDamaged',
        Reason: x.row.reason, AttendeesNotified: 0, Time: x.row.at, Attendee: x.row.attendee as string | null,
        MeetingType: '', NewMeetingType: '',
      })),
  };
}

type OutboxFilter = { identity?: string; state?: OutboxTable['state']; correlationId?: string; kind?: OutboxKindFilter };

/** One page of Get-MmsOutbox (oldest first) and the true number of notifications the filter matches. */
export async function outboxPage(db: Db, tenant: Tenant, filter: OutboxFilter = {}, page: PageRequest = {}) {
  const organizerId = await userIdOf(db, tenant, filter.identity);
  const correlationId = await correlationIdOf(db, tenant, filter.correlationId);
  const { limit, offset } = window(page);
  const { rows, total } = await listOutbox(db.kysely, tenant.id, { organizerId, state: filter.state, correlationId, kind: filter.kind }, { limit, offset });
  return {
    total,
    skip: offset,
    rows: rows.map(outboxFields),
  };
}
