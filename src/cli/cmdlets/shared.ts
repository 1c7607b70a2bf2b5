import type { Tenant } from '../../domain/directory.js';
import { resolveTenant, type ChangeOutcome, type DirectoryContext } from '../../directory/index.js';
import type { CmdletContext, CmdletResult } from '../cmdlet.js';
import { secretsFor } from '../secrets.js';

/** The directory context and tenant a cmdlet acts on. */
export async function directory(ctx: CmdletContext): Promise<{ dir: DirectoryContext; tenant: Tenant }> {
  const tenant = await resolveTenant(ctx.db, ctx.tenant);
  const dir: DirectoryContext = { db: ctx.db, actor: ctx.actor, now: ctx.now, migrationDelayMs: ctx.config.migrationDelayMs };
  // Leader PINs are peppered with the secret key, and emails to users about their own settings are queued (issue 12 §3).
  return { dir: { ...dir, secrets: secretsFor(ctx.config, ctx.db), userNotices: { serviceAddress: ctx.config.serviceAddress || undefined } }, tenant };
}

/**
 * The tenant -Tenant (or MMS_TENANT; over REST, the caller's own) names, or undefined when none is named: then
 * deployment-wide listings (tokens, admin accounts) cover every tenant. Unlike `directory`, "the only tenant" is
 * not assumed.
 */
export async function namedTenantId(ctx: CmdletContext): Promise<string | undefined> {
  return ctx.tenant ? (await resolveTenant(ctx.db, ctx.tenant)).id : undefined;
}

/** One row that tells the admin what MMS decided for a user change, and why. */
export function outcomeRow(o: ChangeOutcome): Record<string, unknown> {
  return {
    UserPrincipalName: o.user.upn,
    MeetingMigration: o.decision.migrate ? (o.coalesced ? 'Queued (merged)' : 'Queued') : 'None',
    CorrelationId: o.correlationId ?? '',
    Reason: o.decision.reason,
    // A PIN this change issued that no email carries (AutomaticallySendEmailsToUsers off): shown here once, nowhere else.
    ...(o.notice?.leaderPin !== undefined ? { LeaderPin: o.notice.leaderPin, LeaderPinNote: LEADER_PIN_NOTE } : {}),
  };
}

/** What the admin is told beside a PIN shown once. */
export const LEADER_PIN_NOTE = 'shown once and stored only as a hash: pass it on to the user now (no email carries it: AutomaticallySendEmailsToUsers is off, -SendEmailToAddress named another address than the user\'s, or this process has no MMS_SECRET_KEY to seal it with); Set-CsOnlineDialInConferencingUser -ResetLeaderPin -SendEmail emails a new one to the user instead';

/** The email a -SendEmail command queued, as its answer names it (the outbox row and the address). */
export function emailQueuedField(o: ChangeOutcome): Record<string, unknown> {
  const q = o.notice?.queued;
  return q ? { EmailQueued: `${q.recipient} (outbox ${q.id}${q.withPin ? ', with the new leader PIN' : ', no PIN'})` } : {};
}

/**
 * `outcomeRow` of a -WhatIf run (the operation's own transaction, rolled back): MeetingMigration says WouldQueue or
 * None and the Reason is the real decision's; no CorrelationId, since no request exists (the worker notice stays silent).
 */
export function whatIfRow(o: ChangeOutcome): Record<string, unknown> {
  // A preview issues no PIN (its transaction is rolled back): none is shown.
  const { LeaderPin: _pin, LeaderPinNote: _note, ...row } = outcomeRow(o);
  return { ...row, MeetingMigration: o.decision.migrate ? 'WouldQueue' : 'None', CorrelationId: '' };
}

export const outcomeResult = (o: ChangeOutcome, whatIf = false): CmdletResult => ({ kind: 'object', value: whatIf ? whatIfRow(o) : outcomeRow(o) });

/** The -WhatIf switch of the commands that change a user: the real operation, rolled back. */
export const WHATIF_PARAM = {
  name: 'WhatIf',
  type: 'switch',
  help: 'Run the change in a transaction that is rolled back: show whether it would migrate the user\'s meetings and why (or why it would be refused), and write nothing.',
} as const;

/** Optional typed reads of parsed arguments. */
export const str = (a: Record<string, unknown>, k: string): string | undefined => a[k] as string | undefined;
export const strs = (a: Record<string, unknown>, k: string): string[] | undefined => a[k] as string[] | undefined;
export const bool = (a: Record<string, unknown>, k: string): boolean | undefined => a[k] as boolean | undefined;
export const num = (a: Record<string, unknown>, k: string): number | undefined => a[k] as number | undefined;
export const req = (a: Record<string, unknown>, k: string): string => a[k] as string;
