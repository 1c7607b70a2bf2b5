import { escapeHtml, formatE164, localeFor, resolveLanguage } from '../domain/meeting-block/index.js';
import type { SecretBox } from '../secrets/index.js';
import { addressOf, type ImipMessage } from './imip-mail.js';
import { composeMime, mailbox, rfc5322Date, unstructured } from './mime.js';
import { NOTICE_TEXT, type UserNoticeKind } from './user-notice-text.js';

export { USER_NOTICE_KINDS, type UserNoticeKind } from './user-notice-text.js';

/** One dial-in number as the email shows it. */
export interface NoticeNumber {
  readonly number: string; // E.164
  readonly label: string; // the bridge's city/region for it ('' when none)
}

/**
 * What an email to a user about their own dial-in settings holds, stored as JSON in its outbox message: only that
 * one user's details (their name, their conference ID and numbers, their PIN). `pin` is the leader PIN sealed with
 * the secret key, removed from the row once the message is Sent; a process without a key never puts a PIN in an
 * email (directory/user-notice.ts shows it to the admin once instead).
 */
export interface UserNoticeContent {
  readonly kind: UserNoticeKind;
  /** The user's preferred language (BCP 47): the email speaks it, or English. */
  readonly language: string;
  readonly displayName: string;
  /** The dial-in details after the change; null when the user has none (DialInRemoved, or a PIN-only notice). */
  readonly dialIn: { readonly conferenceId: string; readonly toll: NoticeNumber | null; readonly tollFree: NoticeNumber | null } | null;
  readonly pin?: { readonly sealed: string };
}

/** What binds a sealed PIN to its one outbox message: opened anywhere else, it does not open. */
export const noticePinContext = (correlationId: string) => `outbox_messages:${correlationId}:leader-pin`;

/** The PIN as a notice stores it: sealed with the secret key, bound to its one message (never in clear). */
export function storedPin(pin: string, correlationId: string, box: SecretBox): NonNullable<UserNoticeContent['pin']> {
  return { sealed: box.seal(pin, noticePinContext(correlationId)) };
}

/** The Message-ID of a notice: the same on every try (one outbox message, one id), so a second send is a duplicate. */
export function userNoticeMessageId(correlationId: string, sender: string): string {
  const domain = sender.slice(sender.lastIndexOf('@') + 1) || 'mms.invalid';
  return `<notice.${correlationId}@${domain}>`;
}


/** The lines of the dial-in details, in the block's own words (labels, colon, number lines) of `language`. */
function detailLines(c: UserNoticeContent, language: string, pin: string | undefined): string[] {
  const l = localeFor(language);
  const lines: string[] = [];
  if (c.dialIn) {
    lines.push(`${l.conferenceId}${l.colon}${c.dialIn.conferenceId}`);
    for (const [n, kind] of [[c.dialIn.toll, l.toll], [c.dialIn.tollFree, l.tollFree]] as const) {
      if (!n) continue;
      const number = formatE164(n.number);
      lines.push(n.label
        ? l.numberLine.replace('{number}', number).replace('{label}', n.label).replace('{kind}', kind)
        : l.numberLineUnlabelled.replace('{number}', number).replace('{kind}', kind));
    }
  }
  if (pin !== undefined) lines.push(`${NOTICE_TEXT[resolveLanguage(language)].leaderPin}${l.colon}${pin}`);
  return lines;
}

/** One stored notice to send: its outbox message's fields. */
export interface UserNoticeMailInput {
  readonly correlationId: string;
  readonly recipient: string;
  /** The service mailbox: From, Sender and the envelope's MAIL FROM. */
  readonly sender: string;
  readonly subject: string;
  /** The stored UserNoticeContent (JSON). */
  readonly notice: string;
}

/**
 * The email to a user about their own dial-in settings: `multipart/alternative` with a text and an HTML rendering
 * in the user's language (greeting, what happened, the conference ID and default numbers, the leader PIN when this
 * notice carries one), from the service mailbox, `Auto-Submitted: auto-generated` (RFC 3834) so that
 * auto-responders stay quiet. A sealed PIN is opened here, just before the bytes go on the wire; it is never logged.
 *
 * @throws Error when a sealed PIN cannot be opened (no key, or another key): the message is then Failed, not sent
 *   without the PIN it exists to deliver.
 */
export function userNoticeMail(m: UserNoticeMailInput, box: SecretBox | undefined, at: Date = new Date()): ImipMessage {
  const c = JSON.parse(m.notice) as UserNoticeContent;
  let pin: string | undefined;
  if (c.pin) {
    if (!box) throw new Error('its leader PIN is sealed and this sender was given no secret key: run mms serve with the MMS_SECRET_KEY (or key file) the PIN was sealed with');
    pin = box.open(c.pin.sealed, noticePinContext(m.correlationId));
  }
  const language = resolveLanguage(c.language);
  const t = NOTICE_TEXT[language];
  const greeting = t.greeting.replace('{name}', c.displayName);
  const details = detailLines(c, c.language, pin);
  const paragraphs = [greeting, t.intro[c.kind], ...(details.length ? [details.join('\n')] : []), ...(pin !== undefined ? [t.pinNote] : []), t.closing];
  const text = `${paragraphs.join('\n\n')}\n`;
  const html = `<!DOCTYPE html>\n<html lang="${language}"><body>\n${paragraphs.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>\n')}</p>`).join('\n')}\n</body></html>\n`;
  const messageId = userNoticeMessageId(m.correlationId, m.sender);
  const raw = composeMime({
    headers: [
      ['From', mailbox('From', addressOf(m.sender))],
      ['To', mailbox('To', addressOf(m.recipient))],
      ['Subject', unstructured('Subject', m.subject)],
      ['Message-ID', messageId],
      ['Date', rfc5322Date(at)],
      ['Content-Language', language],
      ['Auto-Submitted', 'auto-generated'],
    ],
    multipart: 'alternative',
    parts: [
      { contentType: 'text/plain; charset=utf-8', encoding: 'quoted-printable', body: text },
      { contentType: 'text/html; charset=utf-8', encoding: 'quoted-printable', body: html },
    ],
  });
  return { envelope: { from: m.sender, to: [m.recipient] }, messageId, raw };
}

/** The subject of a notice in the user's language (stored with the message, shown by Get-MmsOutbox). */
export function userNoticeSubject(kind: UserNoticeKind, language: string): string {
  return NOTICE_TEXT[resolveLanguage(language)].subject[kind];
}

