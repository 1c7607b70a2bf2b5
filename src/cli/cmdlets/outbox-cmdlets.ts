import { MmsError, usageError } from '../../domain/errors.js';
import { mailState, requeueFailedMail } from '../../store/outbox-send-repo.js';
import type { Cmdlet } from '../cmdlet.js';
import { bool, directory, num } from './shared.js';

/** Cmdlets that act on the outbox's SMTP delivery (issue 8 §3); Get-MmsOutbox lists it (migration-cmdlets.ts). */
export const OUTBOX_CMDLETS: Cmdlet[] = [
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
