import type { Kysely } from 'kysely';
import type { Database, OutboxTable } from './schema.js';

type K = Kysely<Database>;

export interface Notification {
  readonly recipient: string;
  readonly internal: boolean;
}

/** The notifications of one changed meeting. */
export interface MeetingNotifications {
  readonly tenantId: string;
  readonly correlationId: string;
  readonly organizerId: string;
  readonly uid: string;
  readonly now: number;
  readonly recipients: readonly Notification[];
  readonly message: { from: string; sender: string; subject: string; ics: string } | null;
}

/**
 * Records the notifications of changed meetings: internal attendees' copies were updated in place (`Applied`);
 * the external attendees of a meeting share one stored iMIP message (`Queued` for SMTP). Unique indexes on
 * (correlation, meeting, recipient) and (correlation, meeting) make a second notification for the same
 * migration impossible. Two statements for a whole batch.
 */
export async function recordNotifications(k: K, meetings: readonly MeetingNotifications[]): Promise<void> {
  const withMessage = meetings.filter((m) => m.message && m.recipients.some((r) => !r.internal));
  const messageIds = new Map<string, number>();
  if (withMessage.length) {
    const rows = await k.insertInto('outbox_messages').values(withMessage.map((m) => ({
      tenant_id: m.tenantId, correlation_id: m.correlationId, uid: m.uid,
      from_address: m.message!.from, sender_address: m.message!.sender, subject: m.message!.subject, ics: m.message!.ics,
    }))).returning(['id', 'correlation_id', 'uid']).execute();
    for (const r of rows) messageIds.set(`${r.correlation_id}\u0000${r.uid}`, Number(r.id));
  }
  const rows = meetings.flatMap((m) => m.recipients.map((r) => ({
    tenant_id: m.tenantId,
    correlation_id: m.correlationId,
    organizer_id: m.organizerId,
    uid: m.uid,
    recipient: r.recipient,
    internal: r.internal ? 1 : 0,
    method: 'REQUEST' as const,
    state: (r.internal ? 'Applied' : 'Queued') as OutboxTable['state'],
    message_id: r.internal ? null : messageIds.get(`${m.correlationId}\u0000${m.uid}`) ?? null,
    created_at: m.now,
    sent_at: r.internal ? m.now : null,
    last_error: null,
  })));
  // PostgreSQL takes at most 65535 parameters a statement: 12 columns, so 5000 rows at a time.
  for (let i = 0; i < rows.length; i += 5000) await k.insertInto('outbox').values(rows.slice(i, i + 5000)).execute();
}

export async function listOutbox(k: K, tenantId: string, filter: { organizerId?: string; state?: OutboxTable['state']; correlationId?: string; limit?: number }) {
  let q = k.selectFrom('outbox').selectAll().where('tenant_id', '=', tenantId);
  if (filter.organizerId) q = q.where('organizer_id', '=', filter.organizerId);
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.correlationId) q = q.where('correlation_id', '=', filter.correlationId);
  return q.orderBy('id').limit(filter.limit ?? 10_000).execute();
}
