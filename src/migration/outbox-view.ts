// Get-MmsOutbox as an admin reads it (issue 9 §3): each notification with the subject of the meeting it is about,
// and one message whole (-Id … -Full): its headers and the iCalendar body exactly as stored.
import type { Tenant } from '../domain/directory.js';
import { notFound } from '../domain/errors.js';
import { imipMessageId } from '../delivery/index.js';
import type { Db } from '../store/index.js';
import { meetingSubjects, outboxEntry } from '../store/outbox-view-repo.js';

/** Rows with the outbox's fields (outboxPage's), to which the meeting's Subject is added. */
type OutboxRow = { CorrelationId: string; Uid: string } & Record<string, unknown>;

/** `rows` with `Subject` after `Uid`: the meeting's subject as its migration saw it ('' when that record was pruned). */
export async function withSubjects<R extends OutboxRow>(db: Db, tenant: Tenant, rows: readonly R[]): Promise<Array<R & { Subject: string }>> {
  const subjects = await meetingSubjects(db.kysely, tenant.id, rows.map((r) => ({ correlationId: r.CorrelationId, uid: r.Uid })));
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      out[k] = v;
      if (k === 'Uid') out.Subject = subjects.get(`${r.CorrelationId}\u0000${r.Uid}`) ?? '';
    }
    return out as R & { Subject: string };
  });
}

/** The fields of one outbox row, as Get-MmsOutbox lists them (the same names as its rows). */
function rowOf(e: NonNullable<Awaited<ReturnType<typeof outboxEntry>>>) {
  return {
    Id: Number(e.id),
    CorrelationId: e.correlation_id,
    Uid: e.uid,
    Subject: e.subject ?? '',
    Recipient: e.recipient,
    Delivery: e.internal ? 'MailboxCopyUpdated' : 'iMIP',
    Method: e.method,
    State: e.state,
    CreatedAt: e.created_at,
    SentAt: e.sent_at,
    Attempts: Number(e.attempts),
    LastReply: e.last_reply,
  };
}

async function entry(db: Db, tenant: Tenant, id: number) {
  const e = await outboxEntry(db.kysely, tenant.id, id);
  if (!e) throw notFound(`no outbox message ${id} in tenant ${tenant.name}; see the Id column of mms Get-MmsOutbox`);
  return e;
}

/** One outbox row (Get-MmsOutbox -Id). */
export async function outboxRow(db: Db, tenant: Tenant, id: number) {
  return rowOf(await entry(db, tenant, id));
}

/**
 * One notification whole (Get-MmsOutbox -Id … -Full): its row, then the message as stored — From (the organizer),
 * Sender (the service mailbox), To, Subject, the Message-ID every try of it carries, and the iTIP REQUEST sent byte
 * for byte as the text/calendar part. The text and HTML parts beside it are rendered from these when it is sent.
 * An internal attendee's copy was updated in place: it has no message.
 */
export async function outboxMessage(db: Db, tenant: Tenant, id: number): Promise<Record<string, unknown>> {
  const e = await entry(db, tenant, id);
  const row = rowOf(e);
  if (e.internal || e.ics === null) {
    return { ...row, Message: 'none: the attendee\'s own calendar copy was updated in place, no mail is sent' };
  }
  const from = e.from_address ?? '';
  const sender = e.sender_address ?? '';
  return {
    ...row,
    From: from,
    Sender: sender,
    To: e.recipient,
    MailSubject: e.mail_subject ?? '',
    MessageId: imipMessageId({ correlationId: e.correlation_id, uid: e.uid, recipient: e.recipient, sender }),
    ContentType: `text/calendar; method=${e.method}; charset=UTF-8`,
    Body: e.ics,
  };
}
