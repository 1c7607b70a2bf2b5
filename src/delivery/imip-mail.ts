import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { escapeHtml, locateTextBlock, resolveLanguage } from '../domain/meeting-block/index.js';
import { editEvents } from '../ical/index.js';
import { composeMime, encodePart, mailbox, rfc5322Date, unstructured, type EncodedPart, type MimeAddress } from './mime.js';

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
  /** The organizer's preferred language (BCP 47): the text and HTML renderings speak it; English otherwise. */
  readonly language?: string;
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


/** What the renderings say, in each language the block itself is rendered in (domain/meeting-block/locales.ts). */
const SENTENCES: Record<ReturnType<typeof resolveLanguage>, string> = {
  en: 'The online meeting information of this meeting has changed. Your calendar updates the meeting from the attached invitation; your response is kept.',
  es: 'La información de la reunión en línea de esta reunión ha cambiado. Su calendario actualiza la reunión a partir de la invitación adjunta; su respuesta se conserva.',
  fr: 'Les informations de réunion en ligne de cette réunion ont changé. Votre calendrier met la réunion à jour à partir de l’invitation jointe\u00a0; votre réponse est conservée.',
  it: 'Le informazioni sulla riunione online di questa riunione sono cambiate. Il calendario aggiorna la riunione dall’invito allegato; la risposta viene mantenuta.',
  de: 'Die Informationen zur Onlinebesprechung dieser Besprechung haben sich geändert. Ihr Kalender aktualisiert die Besprechung anhand der angehängten Einladung; Ihre Antwort bleibt erhalten.',
  ja: 'この会議のオンライン会議情報が変更されました。添付の招待により予定表の会議が更新されます。出欠の返答はそのまま保持されます。',
  'zh-Hans': '此会议的联机会议信息已更改。日历将根据附带的邀请更新会议；您的答复将保留。',
};

/** The last message's parts, encoded: a meeting's update goes to each of its external attendees in a row. */
let last: { ics: string; subject: string; language: string | undefined; parts: EncodedPart[] } | undefined;

/** The three parts of an update: the same for every recipient of one stored message. */
function partsOf(m: ImipMailInput): EncodedPart[] {
  if (last && last.ics === m.ics && last.subject === m.subject && last.language === m.language) return last.parts;
  const block = blockOf(m.ics);
  const language = resolveLanguage(m.language ?? 'en');
  const sentence = SENTENCES[language];
  const text = `${m.subject}\n\n${sentence}\n\n${block}\n`;
  const html = `<!DOCTYPE html>\n<html lang="${language}"><body>\n<p><strong>${escapeHtml(m.subject)}</strong></p>\n<p>${escapeHtml(sentence)}</p>\n<pre style="font-family:inherit;white-space:pre-wrap">${escapeHtml(block)}</pre>\n</body></html>\n`;
  const parts = [
    encodePart({ contentType: 'text/plain; charset=utf-8', encoding: 'quoted-printable', body: text }),
    encodePart({ contentType: 'text/html; charset=utf-8', encoding: 'quoted-printable', body: html }),
    encodePart({ contentType: 'text/calendar; method=REQUEST; charset=UTF-8', encoding: 'base64', body: m.ics }),
  ];
  last = { ics: m.ics, subject: m.subject, language: m.language, parts };
  return parts;
}

/** A header address: `Name <addr>` split into its parts, a bare address as it is; the domain as IDNA ASCII. */
export function addressOf(s: string): MimeAddress {
  const m = /^\s*(?:"?([^"<]*?)"?\s*)<([^<>]+)>\s*$/.exec(s);
  const [name, address] = m ? [m[1] || undefined, m[2] as string] : [undefined, s.trim()];
  const at = address.lastIndexOf('@');
  const domain = at >= 0 ? address.slice(at + 1) : '';
  const ascii = domain && !/^[\x20-\x7e]*$/.test(domain) ? domainToASCII(domain) || domain : domain;
  return { name, address: at >= 0 ? `${address.slice(0, at)}@${ascii}` : address };
}

/** The message of an iMIP update as SMTP sends it: its envelope, its Message-ID and its bytes (RFC 5322 + MIME). */
export interface ImipMessage {
  readonly envelope: { readonly from: string; readonly to: string[] };
  readonly messageId: string;
  /** The whole message, CRLF line ends, 7-bit: what nodemailer sends as `raw`, and what an .eml file holds. */
  readonly raw: Buffer;
}

/**
 * The iMIP update (RFC 6047): `multipart/alternative` with a text and an HTML rendering (the subject, a sentence
 * in the organizer's language, the new block), both quoted-printable UTF-8, and the `text/calendar;
 * method=REQUEST` part (RFC 6047 §2.4). The calendar part is base64: it keeps every byte of the stored text (CRLFs,
 * non-ASCII) and its lines within 76 characters, which quoted-printable would not guarantee for CR/LF. From is
 * the organizer, Sender the service mailbox (RFC 5322 §3.6.2; the iTIP text says the same with
 * ORGANIZER;SENT-BY); the Subject in RFC 2047 encoded-words when it is not plain ASCII. Composed here (mime.ts),
 * not by nodemailer's MailComposer, which cost more per message than sending it: nodemailer is given `raw` and
 * the envelope.
 */
export function imipMail(m: ImipMailInput, at: Date = new Date()): ImipMessage {
  const messageId = imipMessageId(m);
  const raw = composeMime({
    headers: [
      ['From', mailbox('From', addressOf(m.from))],
      ['Sender', mailbox('Sender', addressOf(m.sender))],
      ['To', mailbox('To', addressOf(m.recipient))],
      ['Subject', unstructured('Subject', m.subject)],
      ['Message-ID', messageId],
      ['Date', rfc5322Date(at)],
    ],
    multipart: 'alternative',
    parts: partsOf(m),
  });
  return { envelope: { from: m.sender, to: [m.recipient] }, messageId, raw };
}
