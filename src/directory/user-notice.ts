import { randomUUID } from 'node:crypto';
import type { Bridge, Tenant, User } from '../domain/directory.js';
import { conflict, usageError } from '../domain/errors.js';
import { meetingTarget, type MeetingTarget } from '../domain/meeting-target.js';
import type { ChangeKind } from '../domain/trigger-rules.js';
import { storedPin, userNoticeSubject, type UserNoticeContent, type UserNoticeKind } from '../delivery/index.js';
import { recordUserNotice } from '../store/outbox-repo.js';
import type { Tx } from '../store/transaction.js';
import { PinNeeded, preparePin, type DirectoryContext } from './context.js';

/** What a user change did about the user's own email and PIN (issue 12 §3). */
export interface NoticeOutcome {
  /** The email queued in the outbox (Get-MmsOutbox -Kind UserNotice), if any. */
  readonly queued?: { readonly id: number; readonly recipient: string; readonly kind: UserNoticeKind; readonly withPin: boolean };
  /**
   * A leader PIN this change issued that no email carries (AutomaticallySendEmailsToUsers is false and -SendEmail was
   * not given): the command shows it this once and the admin passes it on. Never stored, logged or audited.
   */
  readonly leaderPin?: string;
}

/** Microsoft audio conferencing in force: the built-in provider, enabled, with the licence. */
const hasMicrosoftDialIn = (u: User) => u.acProvider === 'Microsoft' && u.acEnabled && u.licenses.includes('AudioConferencing');

/** The dial-in details an email shows: the conference ID and default numbers the user's meetings show. */
function detailsOf(target: MeetingTarget): UserNoticeContent['dialIn'] {
  const d = target.dialIn;
  if (!d || d.provider !== 'Microsoft') return null;
  const n = (x: typeof d.toll) => (x ? { number: x.number, label: x.label } : null);
  return { conferenceId: d.conferenceId, toll: n(d.toll), tollFree: n(d.tollFree) };
}

/** A -SendEmailToAddress value as the email goes to, or a Usage error naming the problem and the fix. */
export function checkNoticeAddress(input: string): string {
  const v = input.trim();
  // The local part as RFC 5322 dot-atom text (ASCII: it goes into the To field as it is); the domain may be IDN.
  if (v.length > 256 || !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[^@\s<>",;]+\.[^@\s<>",;.][^@\s<>",;]*$/.test(v)) {
    const shown = v.length > 60 ? `${v.slice(0, 40)}…` : v;
    throw usageError(`SendEmailToAddress '${shown}' is not an email address: write name@domain, e.g. -SendEmailToAddress amy.shaw@contoso.com`);
  }
  return v;
}

/**
 * The user's own email and PIN for one directory change, in the change's transaction (called by applyUserChange,
 * and by the dial-in commands for -SendEmail on a user already as asked):
 *
 * - a PIN is issued — generated, stored as its hash (context.ts), put in the one email — when the user gets
 *   Microsoft audio conferencing (licence assigned, provider switched to Microsoft, enabled again) or the PIN is reset;
 * - the email says what happened: DialInAssigned (conference ID, numbers, PIN), DialInChanged (the new conference ID
 *   or default numbers, no PIN), LeaderPinReset (the new PIN), DialInRemoved (licence removed, provider changed away,
 *   disabled), ConferenceInfo (-SendEmail alone: the current details, no PIN). It is queued when the tenant's
 *   AutomaticallySendEmailsToUsers is on (and the caller queues emails at all: ctx.userNotices), or always with
 *   -SendEmail, to -SendEmailToAddress or the user's UPN;
 * - a PIN no email carries comes back as `leaderPin` for the command to show once.
 */
export async function noticeForChange(
  tx: Tx,
  ctx: DirectoryContext,
  input: { tenant: Tenant; bridgesBefore: readonly Bridge[]; bridgesAfter: readonly Bridge[]; before: User; after: User; kinds: readonly ChangeKind[] },
): Promise<NoticeOutcome | undefined> {
  const { tenant, before, after } = input;
  const was = hasMicrosoftDialIn(before);
  const is = hasMicrosoftDialIn(after);
  const detailsBefore = detailsOf(meetingTarget(before, tenant, input.bridgesBefore));
  const detailsAfter = detailsOf(meetingTarget(after, tenant, input.bridgesAfter));
  let kind: UserNoticeKind | null = null;
  let issuePin = false;
  if (!was && is) {
    kind = 'DialInAssigned';
    issuePin = true;
  } else if (was && !is) {
    kind = 'DialInRemoved';
  } else if (is && JSON.stringify(detailsBefore) !== JSON.stringify(detailsAfter)) {
    kind = 'DialInChanged';
  }
  if (input.kinds.includes('LeaderPinReset')) {
    issuePin = true;
    kind ??= 'LeaderPinReset';
  }
  if (ctx.sendEmail) kind ??= 'ConferenceInfo';
  if (!kind) return undefined;
  if (kind === 'ConferenceInfo' && !detailsAfter) {
    throw conflict(`${after.upn} has no Microsoft audio conferencing, so there are no dial-in details to email: enable it first (Enable-CsOnlineDialInConferencingUser -Identity ${after.upn} -SendEmail)`);
  }

  let pin: string | undefined;
  // Library callers give no secret box (test fixtures, the bench's world, the demo loader): they issue no PIN. The
  // slow hash is ~0.1 s of CPU a user, which provisioning hundreds of users for a test or a demo has no use for; the
  // CLI, the REST API and the admin center always pass the box, so every PIN a person can be given is issued.
  if (!ctx.secrets) issuePin = false;
  if (issuePin) {
    const length = tenant.settings.pinLength;
    const ready = ctx.preparedPin?.pin.length === length ? ctx.preparedPin : undefined;
    if (!ready && ctx.pinBeforeTransaction) throw new PinNeeded(length);
    const made = ready ?? (await preparePin(length, ctx.secrets));
    pin = made.pin;
    await tx.updateTable('users').set({ leader_pin_hash: made.hash }).where('id', '=', after.id).execute();
  }
  const send = ctx.sendEmail !== undefined || (ctx.userNotices !== undefined && tenant.settings.automaticallySendEmailsToUsers);
  if (!send) return pin === undefined ? undefined : { leaderPin: pin };

  const correlationId = randomUUID();
  const recipient = ctx.sendEmail?.to ?? after.upn;
  // A PIN goes only to the user's own address, and only sealed with the secret key (review of issue 12 §3): an email
  // to -SendEmailToAddress elsewhere carries the details without it, and a process without the key (PostgreSQL
  // without MMS_SECRET_KEY) never writes a PIN into the outbox. Either way the PIN is shown once to the admin instead.
  const carriesPin = pin !== undefined && recipient.toLowerCase() === after.upn.toLowerCase() && ctx.secrets?.hasKey() === true;
  const content: UserNoticeContent = {
    kind,
    language: after.preferredLanguage,
    displayName: after.displayName,
    dialIn: kind === 'DialInRemoved' ? null : detailsAfter,
    ...(carriesPin ? { pin: storedPin(pin!, correlationId, ctx.secrets!) } : {}),
  };
  const id = await recordUserNotice(tx, {
    tenantId: tenant.id,
    correlationId,
    userId: after.id,
    recipient,
    sender: ctx.userNotices?.serviceAddress || `mms@${tenant.domains[0] ?? 'mms.invalid'}`,
    subject: userNoticeSubject(kind, after.preferredLanguage),
    notice: JSON.stringify(content),
    now: ctx.now(),
  });
  return { queued: { id, recipient, kind, withPin: carriesPin }, ...(pin !== undefined && !carriesPin ? { leaderPin: pin } : {}) };
}
