import { createHash } from 'node:crypto';
import { locateTextBlock } from '../domain/meeting-block/index.js';
import { editEvents } from '../ical/index.js';

/** One stored iMIP message to one recipient: what an outbox row and its message hold. */
export interface ImipMailInput {
  readonly correlationId: string;
  readonly uid: string;
  readonly recipient: string;
  /** The organizer (From). */
  readonly from: string;
  /** The service mailbox that sends on the organizer's behalf (Sender, and the envelope's MAIL FROM for bounces). */
  readonly sender: string;
  readonly subject: string;
  /** The stored iTIP REQUEST, sent byte for byte. */
  readonly ics: string;
}

const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 16);

/**
 * The Message-ID of a (migration, meeting, recipient): the same on every try, so a message sent twice (SMTP's
 * at-least-once window) carries one id and a receiving server or client that keeps seen ids drops the second.
 * The meeting's UID and the recipient are hashed: both may hold characters a Message-ID cannot.
 */
export function imipMessageId(m: Pick<ImipMailInput, 'correlationId' | 'uid' | 'recipient' | 'sender'>): string {
  const domain = m.sender.slice(m.sender.lastIndexOf('@') + 1) || 'mms.invalid';
  return `<${m.correlationId}.${hash(m.uid)}.${hash(m.recipient.toLowerCase())}@${domain}>`;
}

/**
 * The new online meeting block of the message's first event, or its whole DESCRIPTION when no block is found, or
 * '' when the text cannot be read: the renderings are a courtesy, the iTIP part (sent as stored) is the update.
 */
function blockOf(ics: string): string {
  let description = '';
  try {
    editEvents(ics, (e) => {
      if (!description) description = e.get('DESCRIPTION') ?? '';
    });
  } catch {
    return '';
  }
  const range = locateTextBlock(description);
  return (range ? description.slice(range.start, range.end) : description).replace(/\r\n?/g, '\n').trim();
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const SENTENCE = 'The online meeting information of this meeting has changed. Your calendar updates the meeting from the attached invitation; your response is kept.';

/**
 * The nodemailer message of an iMIP update (RFC 6047): `multipart/alternative` with a text and an HTML rendering
 * (the subject, a sentence, the new block) and the `text/calendar; method=REQUEST` part (RFC 6047 §2.4). The
 * calendar part is base64: it keeps every byte of the stored text (CRLFs, non-ASCII) and its lines within 76
 * characters, which quoted-printable would not guarantee for CR/LF. From is the organizer, Sender the service
 * mailbox (RFC 5322 §3.6.2; the iTIP text says the same with ORGANIZER;SENT-BY).
 */
export function imipMail(m: ImipMailInput) {
  const block = blockOf(m.ics);
  const text = `${m.subject}\n\n${SENTENCE}\n\n${block}\n`;
  const html = `<!DOCTYPE html>\n<html><body>\n<p><strong>${escapeHtml(m.subject)}</strong></p>\n<p>${escapeHtml(SENTENCE)}</p>\n<pre style="font-family:inherit;white-space:pre-wrap">${escapeHtml(block)}</pre>\n</body></html>\n`;
  return {
    from: m.from,
    sender: m.sender,
    to: m.recipient,
    envelope: { from: m.sender, to: [m.recipient] },
    subject: m.subject,
    messageId: imipMessageId(m),
    text,
    html,
    alternatives: [{
      contentType: 'text/calendar; method=REQUEST; charset=UTF-8',
      content: Buffer.from(m.ics, 'utf8'),
      contentTransferEncoding: 'base64' as const,
    }],
  };
}
