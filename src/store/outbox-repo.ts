import type { Kysely } from 'kysely';
import { insertRows, type PgColumn } from './bulk-insert.js';
import type { Database, OutboxTable } from './schema.js';

type K = Kysely<Database>;

export interface Notification {
  readonly recipient: string;
  readonly internal: boolean;
  /** An external recipient's message, by its `variant` (default '': the one message of the whole meeting). */
  readonly variant?: string;
}

/** A stored iMIP message. */
export interface OutboxMessage {
  readonly from: string;
  readonly sender: string;
  readonly subject: string;
  readonly ics: string;
  /** Which components it carries: '' the whole meeting (the default), else a key of that set. */
  readonly variant?: string;
}

/** The notifications of one changed meeting. */
export interface MeetingNotifications {
  readonly tenantId: string;
  readonly correlationId: string;
  readonly organizerId: string;
  readonly uid: string;
  readonly now: number;
  readonly recipients: readonly Notification[];
  /** The meeting's messages: each external recipient gets the one its `variant` names (RFC 5546 §3.2.2). */
  readonly messages: readonly OutboxMessage[];
}

const key = (correlationId: string, uid: string, variant: string) => `${correlationId}\u0000${uid}\u0000${variant}`;

/**
 * Records the notifications of changed meetings: internal attendees' copies were updated in place (`Applied`);
 * each external attendee is linked to the stored iMIP message meant for them (`Queued` for SMTP), which
 * recipients invited to the same components share. Unique indexes on (correlation, meeting, recipient) and
 * (correlation, meeting, variant) make a second notification for the same migration impossible. Two
 * statements for a whole batch.
 *
 * @throws Error when an external recipient names a message variant the meeting does not have (a caller bug).
 */
export async function recordNotifications(k: K, meetings: readonly MeetingNotifications[]): Promise<void> {
  const wanted = meetings.filter((m) => m.recipients.some((r) => !r.internal)).flatMap((m) => m.messages.map((msg) => ({ m, msg })));
  const messageIds = new Map<string, number>();
  // Few rows with a large text each (a meeting's iTIP text): as a VALUES list, not arrays, whose literal PostgreSQL
  // would parse every text out of again (measured: 8.5 -> 13 ms a 100-meeting run). 8 columns: 3,000 messages a
  // statement stay under both databases' parameter limits.
  for (let i = 0; i < wanted.length; i += 3000) {
    const rows = await k.insertInto('outbox_messages').values(wanted.slice(i, i + 3000).map(({ m, msg }) => ({
      tenant_id: m.tenantId, correlation_id: m.correlationId, uid: m.uid, variant: msg.variant ?? '',
      from_address: msg.from, sender_address: msg.sender, subject: msg.subject, ics: msg.ics,
    }))).returning(['id', 'correlation_id', 'uid', 'variant']).execute();
    for (const r of rows) messageIds.set(key(r.correlation_id, r.uid, r.variant), Number(r.id));
  }
  const rows = meetings.flatMap((m) => m.recipients.map((r) => {
    let messageId: number | null = null;
    if (!r.internal && m.messages.length) {
      messageId = messageIds.get(key(m.correlationId, m.uid, r.variant ?? '')) ?? null;
      if (messageId === null) throw new Error(`${m.uid}: no message "${r.variant ?? ''}" for ${r.recipient}; pass that variant in messages`);
    }
    return {
      tenant_id: m.tenantId,
      correlation_id: m.correlationId,
      organizer_id: m.organizerId,
      uid: m.uid,
      recipient: r.recipient,
      internal: r.internal ? 1 : 0,
      method: 'REQUEST' as const,
      state: (r.internal ? 'Applied' : 'Queued') as OutboxTable['state'],
      message_id: messageId,
      created_at: m.now,
      sent_at: r.internal ? m.now : null,
      last_error: null,
    };
  }));
  await insertRows(k, 'outbox', OUTBOX_COLUMNS, rows);
}

/** The columns of an outbox row recordNotifications writes, with their PostgreSQL types (migration 002). */
const OUTBOX_COLUMNS: readonly PgColumn[] = [
  ['tenant_id', 'text'], ['correlation_id', 'text'], ['organizer_id', 'text'], ['uid', 'text'], ['recipient', 'text'], ['internal', 'integer'],
  ['method', 'text'], ['state', 'text'], ['message_id', 'bigint'], ['created_at', 'bigint'], ['sent_at', 'bigint'], ['last_error', 'text'],
];

/** An email to a user about their own dial-in settings (issue 12 §3): one outbox row and its message. */
export interface UserNoticeRecord {
  readonly tenantId: string;
  /** A fresh id of this notice: its Message-ID, and what its sealed PIN is bound to. */
  readonly correlationId: string;
  readonly userId: string;
  readonly recipient: string;
  readonly sender: string;
  readonly subject: string;
  /** The UserNoticeContent as JSON (its PIN sealed). */
  readonly notice: string;
  readonly now: number;
}

/** The uid of a notice's outbox row: it is about a user, not a meeting. */
export const USER_NOTICE_UID = 'user-notice';

/**
 * Queues a UserNotice in the caller's transaction (the directory change's own): the message, and its outbox row
 * Queued for the sender, which claims, leases, retries and settles it as it does an iMIP message. Returns the row id.
 */
export async function recordUserNotice(k: K, n: UserNoticeRecord): Promise<number> {
  const msg = await k.insertInto('outbox_messages').values({
    tenant_id: n.tenantId, correlation_id: n.correlationId, uid: USER_NOTICE_UID, variant: '',
    from_address: n.sender, sender_address: n.sender, subject: n.subject, ics: '', notice: n.notice,
  }).returning('id').executeTakeFirstOrThrow();
  const row = await k.insertInto('outbox').values({
    tenant_id: n.tenantId, correlation_id: n.correlationId, organizer_id: n.userId, uid: USER_NOTICE_UID, recipient: n.recipient,
    internal: 0, method: 'REQUEST', state: 'Queued', message_id: Number(msg.id), created_at: n.now, sent_at: null, last_error: null, kind: 'UserNotice',
  }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Which rows Get-MmsOutbox lists: the meetings' notifications (the default, as before issue 12), the user notices, or both. */
export type OutboxKindFilter = 'iMIP' | 'MailboxCopyUpdated' | 'UserNotice' | 'Meeting' | 'All';

type OutboxFilter = { organizerId?: string; state?: OutboxTable['state']; correlationId?: string; kind?: OutboxKindFilter };

/**
 * Get-MmsOutbox rows, oldest first: `limit` of them after skipping `offset`, and the true total counted by the
 * database, so a listing that shows fewer rows than exist can say so.
 */
export async function listOutbox(k: K, tenantId: string, filter: OutboxFilter, page: { limit: number; offset: number }) {
  const filtered = () => {
    let q = k.selectFrom('outbox').where('outbox.tenant_id', '=', tenantId);
    if (filter.organizerId) q = q.where('outbox.organizer_id', '=', filter.organizerId);
    if (filter.state) q = q.where('outbox.state', '=', filter.state);
    if (filter.correlationId) q = q.where('outbox.correlation_id', '=', filter.correlationId);
    const kind = filter.kind ?? 'Meeting';
    if (kind !== 'All') q = q.where('outbox.kind', '=', kind === 'UserNotice' ? 'UserNotice' : 'Meeting');
    if (kind === 'iMIP' || kind === 'MailboxCopyUpdated') q = q.where('outbox.internal', '=', kind === 'iMIP' ? 0 : 1);
    return q;
  };
  // The meeting's subject as its migration's ledger has it (one row per migration and meeting; none once pruned).
  // A user notice has no meeting: its subject is its message's.
  const rows = await filtered()
    .leftJoin('migration_meetings as mm', (j) => j.onRef('mm.tenant_id', '=', 'outbox.tenant_id').onRef('mm.correlation_id', '=', 'outbox.correlation_id').onRef('mm.uid', '=', 'outbox.uid'))
    .leftJoin('outbox_messages as nm', (j) => j.onRef('nm.tenant_id', '=', 'outbox.tenant_id').onRef('nm.id', '=', 'outbox.message_id').on('outbox.kind', '=', 'UserNotice'))
    .selectAll('outbox').select((eb) => eb.fn.coalesce('mm.subject', 'nm.subject').as('subject'))
    .orderBy('outbox.id').limit(page.limit).offset(page.offset).execute();
  const total = Number((await filtered().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  return { rows, total };
}

/** One outbox row of the tenant with its stored iMIP message (none for an internal copy) and the meeting's subject. */
export async function outboxEntry(k: K, tenantId: string, id: number) {
  return k.selectFrom('outbox as o')
    .leftJoin('outbox_messages as m', (j) => j.onRef('m.tenant_id', '=', 'o.tenant_id').onRef('m.id', '=', 'o.message_id'))
    .leftJoin('migration_meetings as mm', (j) => j.onRef('mm.tenant_id', '=', 'o.tenant_id').onRef('mm.correlation_id', '=', 'o.correlation_id').onRef('mm.uid', '=', 'o.uid'))
    .select([
      'o.id', 'o.correlation_id', 'o.organizer_id', 'o.uid', 'o.recipient', 'o.internal', 'o.method', 'o.state', 'o.created_at', 'o.sent_at',
      'o.attempts', 'o.last_reply', 'm.from_address', 'm.sender_address', 'm.subject as mail_subject', 'm.ics', 'mm.subject', 'o.kind', 'm.notice',
    ])
    .where('o.tenant_id', '=', tenantId)
    .where('o.id', '=', id)
    .executeTakeFirst();
}
