import { randomUUID } from 'node:crypto';
import type { Bridge, HostedOn, License, MailboxLocation, User } from '../domain/directory.js';
import { conflict, usageError } from '../domain/errors.js';
import { insertAudit } from '../store/audit-repo.js';
import { findUser, getTenant, userChanges } from '../store/directory-repo.js';
import { writeTransaction } from '../store/transaction.js';
import type { ChangeOutcome } from './apply-change.js';
import { changeUser } from './change-user.js';
import { checkTimeZone } from './time-zone.js';
import { hashPin, newConferenceId, newPin, type DirectoryContext } from './context.js';
import type { ChangeKind } from '../domain/trigger-rules.js';
import type { Tx } from '../store/transaction.js';

const UPN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const LANGUAGE = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;

/** Normalises a SIP address to `sip:user@domain`, or says what form is expected. */
export function toSipAddress(input: string): string {
  const v = input.trim().toLowerCase();
  const sip = v.startsWith('sip:') ? v : `sip:${v}`;
  if (!/^sip:[^@\s:]+@[^@\s]+\.[^@\s]+$/.test(sip)) {
    throw usageError(`SipAddress '${input}' is not a SIP address: write sip:user@domain (e.g. sip:ashaw@contoso.com)`);
  }
  return sip;
}

/** A conference ID the tenant does not use yet (tries again on the rare collision). */
export async function unusedConferenceId(tx: Tx, tenantId: string): Promise<string> {
  for (;;) {
    const id = newConferenceId();
    const taken = await tx.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('conference_id', '=', id).executeTakeFirst();
    if (!taken) return id;
  }
}

export interface NewUserInput {
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly sipAddress?: string;
  readonly hostedOn?: HostedOn;
  readonly mailboxLocation?: MailboxLocation;
  readonly preferredLanguage?: string;
  /** IANA or Windows zone name for the user's floating meeting times; default the tenant's. */
  readonly timeZone?: string;
}

/** New-MmsUser: adds a user with a conference ID and a leader PIN, homed where the admin says (Online by default). */
export async function newUser(ctx: DirectoryContext, tenantId: string, input: NewUserInput): Promise<User> {
  const upn = input.userPrincipalName.trim().toLowerCase();
  if (!UPN.test(upn)) throw usageError(`UserPrincipalName '${input.userPrincipalName}' is not a UPN: write name@domain, e.g. ashaw@contoso.com`);
  const language = input.preferredLanguage?.trim() || 'en-US';
  if (!LANGUAGE.test(language)) throw usageError(`PreferredLanguage '${language}' is not a language tag: write e.g. en-US, fr-FR, ja-JP`);
  const sip = toSipAddress(input.sipAddress ?? upn);
  const timeZone = input.timeZone === undefined ? null : checkTimeZone(input.timeZone);
  if (!input.displayName.trim()) throw usageError('DisplayName is empty: give the name people see, e.g. -DisplayName "Amy Shaw"');
  return writeTransaction(ctx.db, async (tx) => {
    const tenant = await getTenant(tx, tenantId);
    if (!tenant) throw conflict(`tenant ${tenantId} no longer exists`);
    const domain = upn.split('@')[1] ?? '';
    if (!tenant.domains.some((d) => d.toLowerCase() === domain)) {
      throw usageError(`${domain} is not a verified domain of ${tenant.name} (${tenant.domains.join(', ')}): use one of them in the UPN`);
    }
    if (await findUser(tx, tenant.id, upn)) throw conflict(`a user ${upn} already exists in ${tenant.name}`);
    if (await findUser(tx, tenant.id, sip)) throw conflict(`the SIP address ${sip} is already used in ${tenant.name}: pick another with -SipAddress`);
    const now = ctx.now();
    const user: User = {
      id: randomUUID(),
      tenantId: tenant.id,
      upn,
      sipAddress: sip,
      displayName: input.displayName.trim(),
      preferredLanguage: language,
      hostedOn: input.hostedOn ?? 'Online',
      mailboxLocation: input.mailboxLocation ?? 'Online',
      licenses: [],
      acProvider: 'None',
      acp: null,
      acEnabled: false,
      bridgeId: null,
      tollNumber: null,
      tollFreeNumber: null,
      conferenceId: await unusedConferenceId(tx, tenant.id),
      timeZone,
    };
    const row = userChanges(user);
    await tx.insertInto('users').values({
      ...(row as Required<typeof row>),
      id: user.id,
      tenant_id: tenant.id,
      leader_pin_hash: hashPin(newPin(tenant.settings.pinLength)),
      created_at: now,
      modified_at: now,
    }).execute();
    await insertAudit(tx, {
      tenantId: tenant.id, at: now, actor: ctx.actor, cmdlet: 'New-MmsUser', userId: user.id, target: upn,
      changes: { User: [null, upn] }, decision: 'None', reason: 'user created; a new user has no meetings to migrate', correlationId: null,
    });
    return user;
  });
}

/** Move-CsUser: changes where the user is homed; moving online changes join links and dial-in numbers. */
export function moveUser(ctx: DirectoryContext, tenantId: string, identity: string, target: HostedOn): Promise<ChangeOutcome> {
  return changeUser(ctx, tenantId, identity, 'Move-CsUser', (user) => {
    if (user.hostedOn === target) throw conflict(`${user.upn} is already homed ${target}; nothing to move`);
    const kind: ChangeKind = target === 'Online' ? 'UserMovedOnline' : 'UserMovedOnPremises';
    return { after: { ...user, hostedOn: target }, kinds: [kind] };
  });
}

/** Set-CsUser -SipAddress: a documented non-trigger. */
export function setSipAddress(ctx: DirectoryContext, tenantId: string, identity: string, sipAddress: string): Promise<ChangeOutcome> {
  const sip = toSipAddress(sipAddress);
  return changeUser(ctx, tenantId, identity, 'Set-CsUser', async (user, tenant, _b, tx) => {
    const other = await findUser(tx, tenant.id, sip);
    if (other && other.id !== user.id) throw conflict(`the SIP address ${sip} is already used by ${other.upn}`);
    return { after: { ...user, sipAddress: sip }, kinds: ['SipAddressChanged'] };
  });
}

/**
 * Set-MmsUserLicense: the licence rules of the admin docs. Assigning Audio Conferencing to a user with no
 * provider makes the provider Microsoft; to a user on a third-party provider it replaces the provider only when
 * AutomaticallyReplaceAcpProvider is true, otherwise the ACP numbers stay until -ReplaceProvider. Removing it
 * turns off built-in audio conferencing (a third-party provider is left as it is).
 */
export function setLicense(
  ctx: DirectoryContext,
  tenantId: string,
  identity: string,
  change: { add?: readonly License[]; remove?: readonly License[] },
): Promise<ChangeOutcome> {
  const add = change.add ?? [];
  const remove = change.remove ?? [];
  if (!add.length && !remove.length) throw usageError('nothing to change: give -AddLicenses AudioConferencing or -RemoveLicenses AudioConferencing');
  if (add.some((l) => remove.includes(l))) throw usageError('the same licence is both added and removed: give it to -AddLicenses or -RemoveLicenses, not both');
  return changeUser(ctx, tenantId, identity, 'Set-MmsUserLicense', (user, tenant, bridges) => {
    let after: User = user;
    const kinds: ChangeKind[] = [];
    if (add.includes('AudioConferencing') && !user.licenses.includes('AudioConferencing')) {
      after = { ...after, licenses: [...after.licenses, 'AudioConferencing'] };
      if (after.acProvider === 'None' || after.acProvider === 'Microsoft') {
        after = provisionMicrosoft(after, bridges);
      } else if (tenant.settings.automaticallyReplaceAcpProvider) {
        after = { ...provisionMicrosoft(after, bridges), acp: null };
      }
      kinds.push('LicenseAssigned');
    }
    if (remove.includes('AudioConferencing') && user.licenses.includes('AudioConferencing')) {
      after = { ...after, licenses: after.licenses.filter((l) => l !== 'AudioConferencing') };
      if (after.acProvider === 'Microsoft') after = { ...after, acProvider: 'None', acEnabled: false };
      kinds.push('LicenseRemoved');
    }
    if (!kinds.length) {
      throw conflict(`${user.upn} already ${add.length ? 'holds' : 'lacks'} the Audio Conferencing licence; nothing to change`);
    }
    return { after, kinds };
  });
}

/**
 * Puts a user on the built-in provider, pinned to the bridge they were provisioned on (the tenant's default
 * online bridge unless set), so that a later change of the default bridge does not move existing users.
 */
export function provisionMicrosoft(user: User, bridges: readonly Bridge[]): User {
  const bridgeId = user.bridgeId ?? bridges.find((b) => b.isDefault && !b.onPremises)?.id ?? null;
  return { ...user, acProvider: 'Microsoft', acEnabled: true, bridgeId };
}
