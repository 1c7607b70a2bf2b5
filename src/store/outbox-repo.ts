import type { Kysely } from 'kysely';
import type { Database, OutboxTable } from './schema.js';

type K = Kysely<Database>;

export interface Notification {
  readonly recipient: string;
  readonly internal: boolean;
}

/**
 * Records the notifications of one changed meeting: internal attendees' copies were updated in place
 * (`Applied`); external attendees share one stored iMIP message (`Queued` for SMTP). The unique index on
 * (correlation, meeting, recipient) makes a second notification for the same migration impossible.
 */
export async function recordNotifications(
  k: K,
  input: {
    tenantId: string; correlationId: string; organizerId: string; uid: string; now: number;
    recipients: readonly Notification[];
    message: { from: string; sender: string; subject: string; ics: string } | null;
  },
): Promise<void> {
  if (!input.recipients.length) return;
  let messageId: number | null = null;
  if (input.message && input.recipients.some((r) => !r.internal)) {
    const m = await k.insertInto('outbox_messages').values({
      tenant_id: input.tenantId, from_address: input.message.from, sender_address: input.message.sender, subject: input.message.subject, ics: input.message.ics,
    }).returning('id').executeTakeFirstOrThrow();
    messageId = Number(m.id);
  }
  await k.insertInto('outbox').values(input.recipients.map((r) => ({
    tenant_id: input.tenantId,
    correlation_id: input.correlationId,
    organizer_id: input.organizerId,
    uid: input.uid,
    recipient: r.recipient,
    internal: r.internal ? 1 : 0,
    method: 'REQUEST' as const,
    state: (r.internal ? 'Applied' : 'Queued') as OutboxTable['state'],
    message_id: r.internal ? null : messageId,
    created_at: input.now,
    sent_at: r.internal ? input.now : null,
    last_error: null,
  }))).execute();
}

export async function listOutbox(k: K, tenantId: string, filter: { organizerId?: string; state?: OutboxTable['state']; correlationId?: string; limit?: number }) {
  let q = k.selectFrom('outbox').selectAll().where('tenant_id', '=', tenantId);
  if (filter.organizerId) q = q.where('organizer_id', '=', filter.organizerId);
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.correlationId) q = q.where('correlation_id', '=', filter.correlationId);
  return q.orderBy('id').limit(filter.limit ?? 10_000).execute();
}
