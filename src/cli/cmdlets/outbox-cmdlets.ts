import { MmsError, usageError } from '../../domain/errors.js';
import { outboxMessage, outboxPage, outboxRow } from '../../migration/index.js';
import { mailState, requeueFailedMail } from '../../store/outbox-send-repo.js';
import type { OutboxKindFilter } from '../../store/outbox-repo.js';
import type { Cmdlet } from '../cmdlet.js';
import { pageArgs, PAGING_PARAMS } from './paging.js';
import { bool, directory, num, str } from './shared.js';

/** The table's columns; --json has every field (CorrelationId, Uid, Method, SentAt too). */
const OUTBOX_COLUMNS = ['Id', 'CreatedAt', 'Subject', 'Recipient', 'Delivery', 'State', 'Attempts', 'LastReply'];

/** The outbox: Get-MmsOutbox lists the notifications migrations sent (or show one whole), Send-MmsOutbox -Retry (issue 8 §3). */
export const OUTBOX_CMDLETS: Cmdlet[] = [
  {
    name: 'Get-MmsOutbox',
    area: 'Meeting migration',
    synopsis: 'Lists the update notifications migrations sent (meeting subject, internal copies updated in place, iMIP messages with their SMTP state); -Id … -Full shows one message whole.',
    params: [
      { name: 'Identity', type: 'string', position: 0, help: 'Only notifications for this organizer\'s meetings.' },
      { name: 'State', type: 'enum', values: ['Applied', 'Queued', 'Sending', 'Sent', 'Failed'], help: 'Only notifications in this state (iMIP: Queued, Sending, Sent or Failed; Send-MmsOutbox -Retry sends Failed ones again).' },
      { name: 'CorrelationId', type: 'string', help: 'Only this migration\'s notifications: its CorrelationId, or an unambiguous start of it (8 or more characters, as -Wait prints).' },
      { name: 'Kind', type: 'enum', values: ['Meeting', 'iMIP', 'MailboxCopyUpdated', 'UserNotice', 'All'], help: 'Which rows: Meeting (the default) the notifications of migrated meetings, iMIP or MailboxCopyUpdated only one delivery of those, UserNotice the emails to users about their own dial-in settings (licence, conference ID, numbers, PIN reset, -SendEmail; with -Identity: that user\'s), All every row.' },
      { name: 'Id', type: 'int', help: 'Only this notification (the Id column).' },
      { name: 'Full', type: 'switch', help: 'With -Id: the message whole, as stored: From, Sender, To, Subject, Message-ID and the iCalendar body (the iTIP REQUEST as sent; --json gives it byte for byte, the list view indents its lines).' },
      ...PAGING_PARAMS,
    ],
    examples: [
      'npx mms Get-MmsOutbox -Identity lidiah@contoso.com -State Queued',
      'npx mms Get-MmsOutbox -Id 42 -Full',
      'npx mms Get-MmsOutbox -State Queued -First 5000 -Skip 10000 --json',
      'npx mms Get-MmsOutbox -Kind UserNotice -Identity lidiah@contoso.com',
    ],
    async run(ctx, a) {
      const id = num(a, 'Id');
      const full = bool(a, 'Full') ?? false;
      if (full && id === undefined) throw usageError('-Full shows one message: give its -Id too (the Id column of mms Get-MmsOutbox), e.g. mms Get-MmsOutbox -Id 42 -Full');
      if (id !== undefined && ['Identity', 'State', 'CorrelationId', 'Kind', 'First', 'Skip'].some((k) => a[k] !== undefined)) {
        throw usageError('-Id names one notification: leave out -Identity, -State, -CorrelationId, -Kind, -First and -Skip with it');
      }
      const { tenant } = await directory(ctx);
      if (id !== undefined) {
        if (full) return { kind: 'object', value: await outboxMessage(ctx.db, tenant, id) };
        return { kind: 'rows', rows: [await outboxRow(ctx.db, tenant, id)], columns: OUTBOX_COLUMNS };
      }
      const { rows, total, skip } = await outboxPage(ctx.db, tenant, { identity: str(a, 'Identity'), state: str(a, 'State') as 'Queued' | undefined, correlationId: str(a, 'CorrelationId'), kind: str(a, 'Kind') as OutboxKindFilter | undefined }, pageArgs(a));
      return { kind: 'rows', rows, page: { total, skip }, columns: OUTBOX_COLUMNS };
    },
  },
  {
    name: 'Send-MmsOutbox',
    area: 'Meeting migration',
    synopsis: 'With -Retry, puts Failed iMIP messages back in the queue: mms serve sends them again (when MMS_SMTP_URL is set).',
    params: [
      { name: 'Retry', type: 'switch', help: 'Send Failed messages again (their attempts start over).' },
      { name: 'Id', type: 'int', help: 'Only this message (the Id column of Get-MmsOutbox); without it, every Failed message of the tenant.' },
    ],
    examples: ['npx mms Send-MmsOutbox -Retry', 'npx mms Send-MmsOutbox -Retry -Id 42'],
    async run(ctx, a) {
      // Sending itself is the service's job (its lease and rate limit); the cmdlet only requeues.
      if (!bool(a, 'Retry')) throw usageError('Send-MmsOutbox needs -Retry: it puts Failed messages back to Queued (add -Id to pick one); mms serve sends the outbox');
      const { tenant } = await directory(ctx);
      const id = num(a, 'Id');
      const retried = await requeueFailedMail(ctx.db, tenant.id, id === undefined ? undefined : [id]);
      if (id !== undefined && !retried.length) {
        const row = await mailState(ctx.db, tenant.id, id);
        if (!row) throw new MmsError('NotFound', `no outbox message ${id} in tenant ${tenant.name}; see the Id column of mms Get-MmsOutbox -State Failed`);
        if (row.internal) throw new MmsError('Conflict', `outbox row ${id} is an attendee copy updated in place (Applied), not a mail; nothing to send`);
        throw new MmsError('Conflict', `outbox message ${id} is ${row.state}, not Failed; only Failed messages are sent again (see mms Get-MmsOutbox -State Failed)`);
      }
      return {
        kind: 'object',
        value: {
          Retried: retried.length,
          Ids: retried,
          Note: ctx.config.smtp ? 'mms serve sends them again' : 'MMS_SMTP_URL is not set: they stay Queued until mms serve runs with it',
        },
      };
    },
  },
];
