import type { Bridge, Tenant, ThirdPartyAcp, User } from '../domain/directory.js';
import { conflict, notFound, usageError } from '../domain/errors.js';
import type { ChangeKind } from '../domain/trigger-rules.js';
import type { DirectoryContext } from './context.js';
import type { ChangeOutcome } from './apply-change.js';
import { changeUser, type NoChange } from './change-user.js';
import { checkNoticeAddress, noticeForChange, type NoticeOutcome } from './user-notice.js';
import type { Tx } from '../store/transaction.js';
import { toE164 } from './phone-number.js';
import { provisionMicrosoft, unusedConferenceId } from './users.js';
import { MmsError } from '../domain/errors.js';

/** An absolute http(s) URL without blanks, as a block can link it. */
function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\/[^\s<>"]+$/i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Set-CsUserAcp: puts a user on a third-party audio-conferencing provider (the old values stay in the audit log). */
export function setUserAcp(
  ctx: DirectoryContext,
  tenantId: string,
  identity: string,
  input: { name: string; tollNumber: string; tollFreeNumber?: string; participantPasscode: string; url?: string },
): Promise<ChangeOutcome> {
  const name = input.name.trim().replace(/\s+/gu, ' ');
  if (!name) throw usageError('Name is empty: give the provider name, e.g. -Name "Intercall"');
  if (/\p{Cc}/u.test(name)) throw usageError(`Name '${input.name}' holds a control character: give the provider name on one line`);
  if (!/^\d{4,16}$/.test(input.participantPasscode)) throw usageError(`ParticipantPasscode '${input.participantPasscode}' must be 4 to 16 digits`);
  const url = input.url?.trim() || null;
  if (url !== null && !isHttpUrl(url)) throw usageError(`Url '${input.url}' is not an http(s) link: write the provider's page in full, e.g. https://acp.example.com/local-numbers`);
  const acp: ThirdPartyAcp = {
    name,
    tollNumber: toE164(input.tollNumber, 'TollNumber'),
    tollFreeNumber: input.tollFreeNumber ? toE164(input.tollFreeNumber, 'TollFreeNumber') : null,
    participantPasscode: input.participantPasscode,
    url,
  };
  return changeUser(ctx, tenantId, identity, 'Set-CsUserAcp', (user) => ({
    after: { ...user, acProvider: 'ThirdParty', acp, acEnabled: true },
    kinds: ['ThirdPartyProviderSet'],
  }));
}

/** -SendEmail [-SendEmailToAddress] as the dial-in commands take it (issue 12 §3). */
export interface SendEmailInput {
  readonly sendEmail?: boolean;
  readonly sendEmailToAddress?: string;
}

/** The context of a command with -SendEmail: one email on demand to the address given, or the user's. */
function withSendEmail(ctx: DirectoryContext, input: SendEmailInput): DirectoryContext {
  if (input.sendEmailToAddress !== undefined && !input.sendEmail) {
    throw usageError('-SendEmailToAddress says where the email goes: give -SendEmail with it, e.g. -SendEmail -SendEmailToAddress amy.shaw@contoso.com');
  }
  if (!input.sendEmail) return ctx;
  const to = input.sendEmailToAddress === undefined ? undefined : checkNoticeAddress(input.sendEmailToAddress);
  return { ...ctx, sendEmail: { to } };
}

/**
 * A user already as asked, with -SendEmail: nothing changes, and the email asked for is queued in the same
 * transaction (it carries the current details, never a PIN: none was issued). `keep` receives what was queued.
 */
async function emailOnly(tx: Tx, ctx: DirectoryContext, tenant: Tenant, bridges: readonly Bridge[], user: User, reason: string, keep: (n: NoticeOutcome | undefined) => void): Promise<NoChange> {
  if (ctx.sendEmail) keep(await noticeForChange(tx, ctx, { tenant, bridgesBefore: bridges, bridgesAfter: bridges, before: user, after: user, kinds: [] }));
  return { noChange: reason };
}

/** The outcome for one identity of a command that takes several. */
export type ItemResult =
  | { readonly identity: string; readonly status: 'Done'; readonly outcome: ChangeOutcome }
  | { readonly identity: string; readonly status: 'Failed'; readonly reason: string };

/**
 * Enable-CsOnlineDialInConferencingUser for one or more users: each user is its own transaction, and one that
 * cannot be enabled (no licence, third-party provider without -ReplaceProvider) does not stop the others.
 */
export async function enableDialIn(
  ctx: DirectoryContext,
  tenantId: string,
  identities: readonly string[],
  replaceProvider: boolean,
  whatIf = false,
  email: SendEmailInput = {},
): Promise<ItemResult[]> {
  const results: ItemResult[] = [];
  if (email.sendEmailToAddress !== undefined && identities.length > 1) {
    throw usageError('-SendEmailToAddress sends one user\'s details to one address: give one -Identity with it, or leave it out so each user gets their own email');
  }
  const dir = withSendEmail(ctx, email);
  for (const identity of identities) {
    try {
      let onDemand: NoticeOutcome | undefined;
      const keep = (n: NoticeOutcome | undefined) => { onDemand = n; };
      const changed = await changeUser(dir, tenantId, identity, 'Enable-CsOnlineDialInConferencingUser', (user, tenant, bridges, tx) => {
        if (!user.licenses.includes('AudioConferencing')) {
          throw conflict(`${user.upn} has no Audio Conferencing licence: assign it first with Set-MmsUserLicense -Identity ${user.upn} -AddLicenses AudioConferencing`);
        }
        if (user.acProvider === 'ThirdParty') {
          if (!replaceProvider) {
            throw conflict(`${user.upn} is on the third-party provider ${user.acp?.name ?? ''}: add -ReplaceProvider to switch to Microsoft (note the ACP numbers first; they stay in Get-MmsAuditLog)`);
          }
          return { after: { ...provisionMicrosoft(user, bridges), acp: null }, kinds: ['ProviderReplaced'] };
        }
        if (user.acProvider === 'Microsoft' && user.acEnabled) return emailOnly(tx, dir, tenant, bridges, user, `${user.upn} is already enabled for audio conferencing`, keep);
        return { after: provisionMicrosoft(user, bridges), kinds: ['AudioConferencingEnabled'] };
      }, whatIf);
      const outcome = onDemand ? { ...changed, notice: onDemand } : changed;
      results.push({ identity, status: 'Done', outcome });
    } catch (err) {
      if (!(err instanceof MmsError) || err.code === 'Transient') throw err;
      results.push({ identity, status: 'Failed', reason: err.message });
    }
  }
  return results;
}

/** Disable-CsOnlineDialInConferencingUser: turns built-in audio conferencing off; meetings lose their dial-in numbers. */
export function disableDialIn(ctx: DirectoryContext, tenantId: string, identity: string, whatIf = false): Promise<ChangeOutcome> {
  return changeUser(ctx, tenantId, identity, 'Disable-CsOnlineDialInConferencingUser', (user) => {
    if (user.acProvider !== 'Microsoft' || !user.acEnabled) return { noChange: `${user.upn} is not enabled for Microsoft audio conferencing` };
    return { after: { ...user, acEnabled: false }, kinds: ['AudioConferencingDisabled'] };
  }, whatIf);
}

export interface SetDialInInput {
  readonly bridgeName?: string;
  readonly bridgeId?: string;
  readonly serviceNumber?: string;
  readonly tollFreeServiceNumber?: string;
  readonly conferenceId?: string;
  readonly resetConferenceId?: boolean;
  readonly resetLeaderPin?: boolean;
  /** -WhatIf: the same transaction rolled back (a reset PIN is never shown, and in a preview not even stored). */
  readonly whatIf?: boolean;
}

function findBridge(bridges: readonly Bridge[], input: SetDialInInput): Bridge | undefined {
  if (input.bridgeId === undefined && input.bridgeName === undefined) return undefined;
  const b = bridges.find((x) => x.id === input.bridgeId || (input.bridgeName !== undefined && x.name.toLowerCase() === input.bridgeName.trim().toLowerCase()));
  if (!b) throw notFound(`no bridge ${input.bridgeName ?? input.bridgeId}: the tenant's bridges are ${bridges.map((x) => x.name).join(', ') || 'none'}`);
  if (b.onPremises) throw conflict(`${b.name} is the on-premises bridge; users homed online are provisioned on an online bridge`);
  return b;
}

/**
 * Set-CsOnlineDialInConferencingUser: bridge, default numbers, conference ID and leader PIN. Moving to another
 * bridge resets the default numbers to that bridge's unless new ones are given; a number must belong to the bridge.
 */
export async function setDialInUser(ctx: DirectoryContext, tenantId: string, identity: string, input: SetDialInInput & SendEmailInput): Promise<ChangeOutcome> {
  if (input.conferenceId !== undefined && input.resetConferenceId) throw usageError('give -ConferenceId or -ResetConferenceId, not both');
  const dir = withSendEmail(ctx, input);
  let onDemand: NoticeOutcome | undefined;
  const keep = (n: NoticeOutcome | undefined) => { onDemand = n; };
  if (input.conferenceId !== undefined && !/^\d{4,15}$/.test(input.conferenceId)) throw usageError(`ConferenceId '${input.conferenceId}' must be 4 to 15 digits`);
  const toll = input.serviceNumber !== undefined ? toE164(input.serviceNumber, 'ServiceNumber') : undefined;
  const tollFree = input.tollFreeServiceNumber !== undefined ? toE164(input.tollFreeServiceNumber, 'TollFreeServiceNumber') : undefined;
  const changed = await changeUser(dir, tenantId, identity, 'Set-CsOnlineDialInConferencingUser', async (user, tenant, bridges, tx) => {
    if (user.acProvider === 'ThirdParty') {
      throw conflict(`${user.upn} is on the third-party provider ${user.acp?.name ?? ''}: switch with Enable-CsOnlineDialInConferencingUser -ReplaceProvider first`);
    }
    const kinds: ChangeKind[] = [];
    let after: User = user;
    const newBridge = findBridge(bridges, input);
    const provisioned = user.bridgeId ?? bridges.find((b) => b.isDefault && !b.onPremises)?.id;
    if (newBridge && newBridge.id !== provisioned) {
      after = { ...after, bridgeId: newBridge.id, tollNumber: null, tollFreeNumber: null };
      kinds.push('BridgeChanged');
    }
    const bridge = newBridge ?? bridges.find((b) => b.id === after.bridgeId) ?? bridges.find((b) => b.isDefault && !b.onPremises);
    const onBridge = (n: string, kind: 'Toll' | 'TollFree') => {
      if (!bridge) throw conflict('the tenant has no online bridge: create one with New-MmsBridge -Default');
      if (!bridge.numbers.some((x) => x.number === n && x.kind === kind)) {
        const list = bridge.numbers.filter((x) => x.kind === kind).map((x) => x.number).join(', ') || 'none';
        throw conflict(`${n} is not a ${kind === 'Toll' ? 'toll' : 'toll-free'} number of bridge ${bridge.name} (its numbers: ${list})`);
      }
    };
    if (toll !== undefined && toll !== after.tollNumber) {
      onBridge(toll, 'Toll');
      after = { ...after, tollNumber: toll };
      kinds.push('DefaultNumberChanged');
    }
    if (tollFree !== undefined && tollFree !== after.tollFreeNumber) {
      onBridge(tollFree, 'TollFree');
      after = { ...after, tollFreeNumber: tollFree };
      if (!kinds.includes('DefaultNumberChanged')) kinds.push('DefaultNumberChanged');
    }
    if (input.conferenceId !== undefined && input.conferenceId !== user.conferenceId) {
      const taken = await tx.selectFrom('users').select('upn').where('tenant_id', '=', tenant.id).where('conference_id', '=', input.conferenceId).executeTakeFirst();
      if (taken) throw conflict(`conference ID ${input.conferenceId} is already used by ${taken.upn}: pick another or use -ResetConferenceId`);
      after = { ...after, conferenceId: input.conferenceId };
      kinds.push('ConferenceIdChanged');
    }
    if (input.resetConferenceId) {
      after = { ...after, conferenceId: await unusedConferenceId(tx, tenant.id) };
      kinds.push('ConferenceIdChanged');
    }
    // The new PIN is issued with the change (directory/user-notice.ts): hashed, and put in the user's email or
    // shown to the admin once; never part of invitations.
    if (input.resetLeaderPin) kinds.push('LeaderPinReset');
    if (!kinds.length) {
      const onlyEmail = dir.sendEmail && [input.bridgeName, input.bridgeId, input.serviceNumber, input.tollFreeServiceNumber, input.conferenceId, input.resetConferenceId].every((v) => v === undefined || v === false);
      return emailOnly(tx, dir, tenant, bridges, user, onlyEmail ? `only the email was asked for; ${user.upn}'s settings stay as they are` : `the values given are ${user.upn}'s current ones`, keep);
    }
    return { after, kinds };
  }, input.whatIf);
  return onDemand ? { ...changed, notice: onDemand } : changed;
}
