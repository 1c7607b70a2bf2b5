// Delivery of updates to attendees outside MMS's mailboxes: the outbox sent as iMIP (RFC 6047) over SMTP.
export { OutboxSender, smtpTransportOptions, type MailSettled, type OutboxSenderOptions } from './outbox-sender.js';
export { imipMail, imipMessageId, type ImipMailInput } from './imip-mail.js';
export {
  USER_NOTICE_KINDS, noticePinContext, storedPin, userNoticeMail, userNoticeMessageId, userNoticeSubject,
  type NoticeNumber, type UserNoticeContent, type UserNoticeKind,
} from './user-notice.js';
