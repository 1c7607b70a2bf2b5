// What a change on the users pages will do to the user's meetings, told before the admin saves it. The page does
// not decide this itself: it rebuilds the user, the tenant settings and the bridges from what the cmdlets show
// (Get-CsOnlineDialInConferencingUser, Get-CsTenantMigrationConfiguration, Get-CsOnlineDialInConferencingTenantSettings,
// Get-CsOnlineDialInConferencingBridge), applies the change the way the directory operation does (src/directory/dial-in.ts),
// and asks the same rule the CLI's operations ask (decideTrigger in src/domain/trigger-rules.ts).
import { DEFAULT_TENANT_SETTINGS, type Bridge, type BridgeNumber, type Tenant, type User } from '../../../domain/directory.js';
import { meetingTarget } from '../../../domain/meeting-target.js';
import { decideTrigger, type ChangeKind, type TriggerDecision } from '../../../domain/trigger-rules.js';
import type { PageContext } from '../page.js';

/** A Get-CsOnlineDialInConferencingUser row as the API's JSON. */
export type DialInRow = Record<string, unknown>;

const s = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

/** Microsoft / ThirdParty / None from a row's Provider (the third party shows its own name). */
export function providerKind(row: DialInRow): User['acProvider'] {
  const p = s(row.Provider);
  return p === 'Microsoft' ? 'Microsoft' : p === '' ? 'None' : 'ThirdParty';
}

export const isLicensed = (row: DialInRow): boolean => Array.isArray(row.Licenses) && row.Licenses.includes('AudioConferencing');

/** "+12065550100 (Seattle) Toll" (Get-CsOnlineDialInConferencingBridge's ServiceNumbers) as a bridge number. */
function parseNumber(text: string): BridgeNumber | null {
  const m = /^(\S+) \((.*)\) (Toll|TollFree)$/.exec(text);
  return m ? { number: m[1]!, city: m[2]!, kind: m[3] as 'Toll' | 'TollFree', languages: [] } : null;
}

export function bridgesFromRows(rows: readonly Record<string, unknown>[]): Bridge[] {
  return rows.map((r) => ({
    id: s(r.Identity),
    tenantId: '',
    name: s(r.Name),
    isDefault: r.IsDefault === true,
    onPremises: r.OnPremises === true,
    defaultTollNumber: s(r.DefaultServiceNumber) || null,
    defaultTollFreeNumber: s(r.DefaultTollFreeNumber) || null,
    numbers: (Array.isArray(r.ServiceNumbers) ? r.ServiceNumbers : []).map((n) => parseNumber(s(n))).filter((n): n is BridgeNumber => n !== null),
  }));
}

/** The user as the directory holds it, as far as the meeting rules look (the PIN is never part of it). */
export function userFromRow(row: DialInRow, bridges: readonly Bridge[]): User {
  const provider = providerKind(row);
  const bridge = bridges.find((b) => b.id === s(row.BridgeId));
  return {
    id: s(row.UserId),
    tenantId: '',
    upn: s(row.Identity),
    sipAddress: s(row.SipAddress),
    displayName: s(row.DisplayName),
    preferredLanguage: s(row.PreferredLanguage),
    hostedOn: row.HostedOn === 'OnPremises' ? 'OnPremises' : 'Online',
    mailboxLocation: row.MailboxLocation === 'OnPremises' ? 'OnPremises' : 'Online',
    licenses: isLicensed(row) ? ['AudioConferencing'] : [],
    acProvider: provider,
    acp: provider === 'ThirdParty'
      ? { name: s(row.Provider), tollNumber: s(row.ServiceNumber), tollFreeNumber: s(row.TollFreeServiceNumber) || null, participantPasscode: s(row.ParticipantPasscode), url: null }
      : null,
    acEnabled: row.AudioConferencingEnabled === true,
    bridgeId: bridge && !bridge.onPremises ? bridge.id : null,
    tollNumber: provider === 'Microsoft' ? s(row.ServiceNumber) || null : null,
    tollFreeNumber: provider === 'Microsoft' ? s(row.TollFreeServiceNumber) || null : null,
    conferenceId: s(row.ConferenceId),
    timeZone: null,
  };
}

/** The tenant's settings as the two settings cmdlets show them; join links are the same before and after a dial-in change. */
export async function tenantForRules(ctx: PageContext): Promise<Tenant> {
  const [migration, dialIn] = await Promise.all([ctx.value('Get-CsTenantMigrationConfiguration'), ctx.value('Get-CsOnlineDialInConferencingTenantSettings')]);
  const flag = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);
  return {
    id: '',
    name: s(dialIn.Identity),
    domains: [],
    meetingUrl: 'https://meet.invalid',
    onPremisesMeetingUrl: 'https://meet-onprem.invalid',
    settings: {
      ...DEFAULT_TENANT_SETTINGS,
      meetingMigrationEnabled: flag(migration.MeetingMigrationEnabled, DEFAULT_TENANT_SETTINGS.meetingMigrationEnabled),
      automaticallyMigrateUserMeetings: flag(dialIn.AutomaticallyMigrateUserMeetings, DEFAULT_TENANT_SETTINGS.automaticallyMigrateUserMeetings),
      automaticallyReplaceAcpProvider: flag(dialIn.AutomaticallyReplaceAcpProvider, DEFAULT_TENANT_SETTINGS.automaticallyReplaceAcpProvider),
    },
  };
}

/** The changes the users pages offer. */
export type UserAction = 'ResetPin' | 'Bridge' | 'Numbers' | 'ConferenceId' | 'Enable' | 'ReplaceProvider' | 'Disable';

/** A conference ID the change will pick (any value other than the current one decides the same). */
const NEW_ID = 'new';

/**
 * The user after `action`, as the directory operation makes it (dial-in.ts), with the change kinds it records —
 * or null when the operation would change nothing for this user.
 */
function applied(action: UserAction, user: User, bridges: readonly Bridge[]): { after: User; kinds: ChangeKind[] } | null {
  const defaultOnline = bridges.find((b) => b.isDefault && !b.onPremises);
  const provisioned = user.bridgeId ?? defaultOnline?.id ?? null;
  switch (action) {
    case 'ResetPin':
      return { after: user, kinds: ['LeaderPinReset'] };
    case 'ConferenceId':
      return { after: { ...user, conferenceId: `${user.conferenceId}${NEW_ID}` }, kinds: ['ConferenceIdChanged'] };
    case 'Bridge': {
      const other = bridges.find((b) => !b.onPremises && b.id !== provisioned);
      return other ? { after: { ...user, bridgeId: other.id, tollNumber: null, tollFreeNumber: null }, kinds: ['BridgeChanged'] } : null;
    }
    case 'Numbers': {
      const bridge = bridges.find((b) => b.id === provisioned);
      const other = bridge?.numbers.find((n) => n.kind === 'Toll' && n.number !== user.tollNumber);
      return other ? { after: { ...user, bridgeId: provisioned, tollNumber: other.number }, kinds: ['DefaultNumberChanged'] } : null;
    }
    case 'ReplaceProvider':
    case 'Enable': {
      const after: User = { ...user, acProvider: 'Microsoft', acEnabled: true, acp: null, bridgeId: provisioned };
      if (user.acProvider === 'ThirdParty') return { after, kinds: ['ProviderReplaced'] };
      if (user.acProvider === 'Microsoft' && user.acEnabled) return null;
      return { after, kinds: ['AudioConferencingEnabled'] };
    }
    case 'Disable':
      return user.acProvider === 'Microsoft' && user.acEnabled ? { after: { ...user, acEnabled: false }, kinds: ['AudioConferencingDisabled'] } : null;
  }
}

/** Whether `action` will migrate the user's meetings, and why, in the words of the audit log; null: it changes nothing. */
export function previewDecision(action: UserAction, user: User, tenant: Tenant, bridges: readonly Bridge[]): TriggerDecision | null {
  const change = applied(action, user, bridges);
  if (!change) return null;
  return decideTrigger({
    kinds: change.kinds,
    settings: tenant.settings,
    before: user,
    after: change.after,
    targetBefore: meetingTarget(user, tenant, bridges),
    targetAfter: meetingTarget(change.after, tenant, bridges),
  });
}
