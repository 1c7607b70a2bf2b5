import { randomUUID } from 'node:crypto';
import type { Bridge, HostedOn, License, MailboxLocation, User } from '../domain/directory.js';
import { conflict, usageError } from '../domain/errors.js';
import { insertAudit } from '../store/audit-repo.js';
import { findUser, getTenant, userChanges } from '../store/directory-repo.js';
import { writeTransaction } from '../store/transaction.js';
import type { ChangeOutcome } from './apply-change.js';
import { changeUser } from './change-user.js';
import { checkTimeZone } from './time-zone.js';
import { newConferenceId, type DirectoryContext } from './context.js';
import type { ChangeKind } from '../domain/trigger-rules.js';
import type { Tx } from '../store/transaction.js';

const UPN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** The longest UPN, SIP address (without `sip:`) and display name accepted (Entra ID's limits are lower). */
export const MAX_ADDRESS_LENGTH = 256;
export const MAX_DISPLAY_NAME_LENGTH = 256;

/** What an admin typed, shortened for a one-line message (a 100,000-character value is not echoed whole). */
function shown(value: string): string {
  return value.length > 60 ? `${value.slice(0, 40)}…(${value.length} characters)` : value;
}

/** Normalises a SIP address to `sip:user@domain`, or says what form is expected. */
export function toSipAddress(input: string): string {
  const v = input.trim().toLowerCase();
  const sip = v.startsWith('sip:') ? v : `sip:${v}`;
  if (sip.length - 'sip:'.length > MAX_ADDRESS_LENGTH) {
    throw usageError(`SipAddress '${shown(input)}' is longer than ${MAX_ADDRESS_LENGTH} characters: give the user's real address, e.g. sip:ashaw@contoso.com`);
  }
  if (!/^sip:[^@\s:]+@[^@\s]+\.[^@\s]+$/.test(sip)) {
    throw usageError(`SipAddress '${shown(input)}' is not a SIP address: write sip:user@domain (e.g. sip:ashaw@contoso.com)`);
  }
  return sip;
}

/** A UPN as stored (lower case), or a Usage error saying what form is expected. */
export function checkUpn(input: string): string {
  const upn = input.trim().toLowerCase();
  if (upn.length > MAX_ADDRESS_LENGTH) {
    throw usageError(`UserPrincipalName '${shown(input)}' is longer than ${MAX_ADDRESS_LENGTH} characters: give the user's real sign-in name, e.g. ashaw@contoso.com`);
  }
  if (!UPN.test(upn)) throw usageError(`UserPrincipalName '${shown(input)}' is not a UPN: write name@domain, e.g. ashaw@contoso.com`);
  return upn;
}

/** A display name as stored (trimmed), or a Usage error. */
export function checkDisplayName(input: string): string {
  const name = input.trim();
  if (!name) throw usageError('DisplayName is empty: give the name people see, e.g. -DisplayName "Amy Shaw"');
  if (name.length > MAX_DISPLAY_NAME_LENGTH) {
    throw usageError(`DisplayName '${shown(name)}' is longer than ${MAX_DISPLAY_NAME_LENGTH} characters: give the name people see, e.g. -DisplayName "Amy Shaw"`);
  }
  return name;
}

/**
 * A BCP 47 language tag in its canonical form (`EN-us` -> `en-US`), as Intl knows them; anything else is a
 * Usage error. The tag picks the block's language and the number formats.
 */
export function checkLanguage(input: string): string {
  const tag = input.trim();
  let canonical: string | undefined;
  try {
    // Intl accepts only well-formed BCP 47 tags (RFC 5646); a single letter, digits or "English" throw.
    canonical = tag.length <= 64 && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag) ? Intl.getCanonicalLocales(tag)[0] : undefined;
  } catch {
    canonical = undefined;
  }
  if (!canonical) throw usageError(`PreferredLanguage '${shown(tag)}' is not a BCP 47 language tag: write e.g. en-US, fr-FR, ja-JP`);
  return canonical;
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

/** New-MmsUser: adds a user with a conference ID (no PIN yet: see below), homed where the admin says (Online by default). */
export async function newUser(ctx: DirectoryContext, tenantId: string, input: NewUserInput): Promise<User> {
  const upn = checkUpn(input.userPrincipalName);
  const language = input.preferredLanguage?.trim() ? checkLanguage(input.preferredLanguage) : 'en-US';
  const sip = toSipAddress(input.sipAddress ?? upn);
  const timeZone = input.timeZone === undefined ? null : checkTimeZone(input.timeZone);
  const displayName = checkDisplayName(input.displayName);
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
      displayName,
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
      teamsUpgradePolicy: null,
    };
    const row = userChanges(user);
    await tx.insertInto('users').values({
      ...(row as Required<typeof row>),
      id: user.id,
      tenant_id: tenant.id,
      // No PIN yet: it is issued with audio conferencing (licence or Enable-…), in the email that tells the user
      // (directory/user-notice.ts); a PIN nobody was told would be no use.
      leader_pin_hash: '',
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

/**
 * Move-CsUser: changes where the user is homed; moving online changes join links and dial-in numbers.
 * `moveToTeams` (-MoveToTeams, with -Target Online): the user also becomes TeamsOnly (TeamsUpgradePolicy
 * UpgradeToTeams) and their Skype for Business meetings are converted to Teams, so the request updates every
 * meeting and converts the Skype ones (ToSameType + SfbToTeams = AllToTeams).
 */
export async function moveUser(ctx: DirectoryContext, tenantId: string, identity: string, target: HostedOn, moveToTeams = false): Promise<ChangeOutcome> {
  if (moveToTeams && target !== 'Online') throw usageError('-MoveToTeams moves a user online and makes them TeamsOnly: use it with -Target Online');
  return changeUser(ctx, tenantId, identity, 'Move-CsUser', (user) => {
    if (user.hostedOn === target && moveToTeams) {
      return { noChange: `${user.upn} is already homed Online; to upgrade an online user to Teams run Grant-CsTeamsUpgradePolicy -Identity ${user.upn} -PolicyName UpgradeToTeams` };
    }
    if (user.hostedOn === target) return { noChange: `${user.upn} is already homed ${target}` };
    if (moveToTeams) return { after: { ...user, hostedOn: target, teamsUpgradePolicy: 'UpgradeToTeams' }, kinds: ['UserMovedOnline', 'UserMovedToTeams'] };
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
    if (user.sipAddress === sip) return { noChange: `${user.upn} already has the SIP address ${sip}` };
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
    if (!kinds.length) return { noChange: `${user.upn} already ${add.length ? 'holds' : 'lacks'} the Audio Conferencing licence` };
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
