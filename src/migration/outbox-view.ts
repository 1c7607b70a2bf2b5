// Get-MmsOutbox as an admin reads it (issue 9 §3): each notification with the subject of the meeting it is about,
// and one message whole (-Id … -Full): its headers and the iCalendar body exactly as stored.
import type { Tenant } from '../domain/directory.js';
import { notFound } from '../domain/errors.js';
import { imipMessageId, userNoticeMessageId } from '../delivery/index.js';
import type { Db } from '../store/index.js';
import { outboxEntry } from '../store/outbox-repo.js';

/** The stored columns an outbox row is shown from (a listing's rows and a single entry alike). */
interface OutboxColumns {
  id: number | string;
  correlation_id: string;
  uid: string;
  subject: string | null;
  recipient: string;
  internal: number;
  method: string;
  state: string;
  created_at: number;
  sent_at: number | null;
  attempts: number | string;
  last_reply: string | null;
  /** 'UserNotice': an email to a user about their own dial-in settings (migration 020). */
  kind?: string;
}

/**
 * One notification as Get-MmsOutbox shows it, in its column order: Subject is the meeting's as its migration saw
 * it ('' when that ledger row was pruned); Attempts and LastReply are the SMTP tries so far and the server's last
 * reply (250 … when Sent, the 4xx/5xx otherwise).
 */
export function outboxFields(r: OutboxColumns) {
  return {
    Id: Number(r.id),
    CorrelationId: r.correlation_id,
    Uid: r.uid,
    Subject: r.subject ?? '',
    Recipient: r.recipient,
    Delivery: r.kind === 'UserNotice' ? 'UserNotice' : r.internal ? 'MailboxCopyUpdated' : 'iMIP',
    Method: r.method,
    State: r.state,
    CreatedAt: r.created_at,
    SentAt: r.sent_at,
    Attempts: Number(r.attempts),
    LastReply: r.last_reply,
  };
}

async function entry(db: Db, tenant: Tenant, id: number) {
  const e = await outboxEntry(db.kysely, tenant.id, id);
  if (!e) throw notFound(`no outbox message ${id} in tenant ${tenant.name}; see the Id column of mms Get-MmsOutbox`);
  return e;
}

/** One outbox row (Get-MmsOutbox -Id). */
export async function outboxRow(db: Db, tenant: Tenant, id: number) {
  const e = await entry(db, tenant, id);
  return outboxFields(e.kind === 'UserNotice' ? { ...e, subject: e.mail_subject } : e);
}

/**
 * One notification whole (Get-MmsOutbox -Id … -Full): its row, then the message as stored — From (the organizer),
 * Sender (the service mailbox), To, Subject, the Message-ID every try of it carries, and the iTIP REQUEST sent byte
 * for byte as the text/calendar part. The text and HTML parts beside it are rendered from these when it is sent.
 * An internal attendee's copy was updated in place: it has no message.
 */
export async function outboxMessage(db: Db, tenant: Tenant, id: number): Promise<Record<string, unknown>> {
  const e = await entry(db, tenant, id);
  const row = outboxFields(e.kind === 'UserNotice' ? { ...e, subject: e.mail_subject } : e);
  if (e.internal || e.ics === null) {
    return { ...row, Message: 'none: the attendee\'s own calendar copy was updated in place, no mail is sent' };
  }
  const from = e.from_address ?? '';
  const sender = e.sender_address ?? '';
  if (e.kind === 'UserNotice') {
    // Its content as stored, but the PIN: sealed while it waits (shown only as that), gone once Sent.
    const content = JSON.parse(e.notice ?? '{}') as { pin?: unknown };
    const { pin, ...rest } = content;
    return {
      ...row, Subject: e.mail_subject ?? '', From: from, To: e.recipient, MailSubject: e.mail_subject ?? '',
      MessageId: userNoticeMessageId(e.correlation_id, sender), Notice: { ...rest, ...(pin !== undefined ? { LeaderPin: 'not shown: kept for the send only, removed once Sent' } : {}) },
    };
  }
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
