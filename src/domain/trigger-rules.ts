import type { TenantSettings, User } from './directory.js';
import { sameTarget, type MeetingTarget } from './meeting-target.js';

/** Every directory change the rules know, named after what happened. */
export const CHANGE_KINDS = [
  'UserMovedOnline',
  'UserMovedOnPremises',
  'LicenseAssigned',
  'LicenseRemoved',
  'AudioConferencingEnabled',
  'AudioConferencingDisabled',
  'ProviderReplaced',
  'ThirdPartyProviderSet',
  'ConferenceIdChanged',
  'BridgeChanged',
  'DefaultNumberChanged',
  'NumberUnassigned',
  'LeaderPinReset',
  'SipAddressChanged',
  'MeetingUrlChanged',
  'ManualStart',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Changes the docs name as never migrating, with the reason the audit log gives. */
const NEVER: Partial<Record<ChangeKind, string>> = {
  UserMovedOnPremises: 'moving a user from online to on-premises is not supported by MMS; update the meetings with the Meeting Migration Tool (Invoke-MmsMeetingMigrationTool)',
  LeaderPinReset: 'the leader PIN is not part of meeting invitations',
  SipAddressChanged: 'a SIP address change does not trigger MMS (documented non-trigger); run Start-CsExMeetingMigration to update meetings anyway',
  MeetingUrlChanged: 'Update-CsTenantMeetingUrl does not trigger MMS (documented non-trigger); run Start-CsExMeetingMigration per user to update meetings',
};

/** The audio-conferencing changes (`yes*` in the rules): gated by AutomaticallyMigrateUserMeetings and online homing. */
const AUDIO_CONFERENCING: ReadonlySet<ChangeKind> = new Set<ChangeKind>([
  'LicenseAssigned',
  'LicenseRemoved',
  'AudioConferencingEnabled',
  'AudioConferencingDisabled',
  'ProviderReplaced',
  'ConferenceIdChanged',
  'BridgeChanged',
  'DefaultNumberChanged',
  'NumberUnassigned',
]);

export interface TriggerInput {
  /** What the operation did; one operation may do several (e.g. bridge and numbers). */
  readonly kinds: readonly ChangeKind[];
  readonly settings: TenantSettings;
  readonly before: User;
  readonly after: User;
  readonly targetBefore: MeetingTarget;
  readonly targetAfter: MeetingTarget;
}

export interface TriggerDecision {
  readonly migrate: boolean;
  /** Why: the audit row's reason, written for an admin asking "why did (nothing) happen?". */
  readonly reason: string;
  /** The kind that decided it (for the request's TriggerReasons). */
  readonly kind: ChangeKind | null;
}

const no = (reason: string, kind: ChangeKind | null = null): TriggerDecision => ({ migrate: false, reason, kind });

/**
 * Decides whether a change needs the user's meetings migrated, from the state before and after.
 * The order of the checks is the order an admin reads them in the docs: documented non-triggers, the tenant
 * switch, the mailbox, the provider, then the audio-conferencing gate.
 */
export function decideTrigger(input: TriggerInput): TriggerDecision {
  const { kinds, settings, after } = input;
  const who = after.upn;
  const relevant = kinds.filter((k) => !NEVER[k]);
  if (relevant.length === 0) {
    const k = kinds[0] ?? null;
    return no(k ? (NEVER[k] as string) : 'nothing changed', k);
  }
  const kind = relevant.includes('UserMovedOnline') ? 'UserMovedOnline' : (relevant[0] as ChangeKind);
  if (!settings.meetingMigrationEnabled) {
    return no('MeetingMigrationEnabled is false for the tenant; turn it on with Set-CsTenantMigrationConfiguration -MeetingMigrationEnabled $true, then run Start-CsExMeetingMigration -Identity ' + who, kind);
  }
  if (after.mailboxLocation === 'OnPremises') {
    return no(`the mailbox of ${who} is on-premises, out of MMS's reach; use manual migration (Invoke-MmsMeetingMigrationTool -Identity ${who} -InputPath <exported .ics> -OutputPath <rewritten .ics> -MessagesPath <folder>) or move the mailbox online first`, kind);
  }
  if (after.acProvider === 'ThirdParty') {
    const name = after.acp?.name ?? 'a third-party provider';
    if (kind === 'LicenseAssigned') {
      return no(`${who} stays on ${name}: AutomaticallyReplaceAcpProvider is false, so the ACP numbers are retained; run Enable-CsOnlineDialInConferencingUser -Identity ${who} -ReplaceProvider to switch to Microsoft`, kind);
    }
    return no(`${who} uses the third-party audio conferencing provider ${name}: MMS does not update these meetings; they must be updated manually (Meeting Migration Tool)`, kind);
  }
  if (kind === 'UserMovedOnline') {
    return { migrate: true, reason: `${who} moved from on-premises to online: join link and dial-in information change`, kind };
  }
  if (AUDIO_CONFERENCING.has(kind)) {
    if (!settings.automaticallyMigrateUserMeetings) {
      return no(`AutomaticallyMigrateUserMeetings is false: audio conferencing changes do not migrate meetings; run Start-CsExMeetingMigration -Identity ${who} to update them`, kind);
    }
    if (after.hostedOn === 'OnPremises') {
      return no(`${who} is still homed on-premises and keeps being served there; Move-CsUser -Target Online will migrate the meetings with the settings in force then`, kind);
    }
  }
  if (sameTarget(input.targetBefore, input.targetAfter)) {
    return no(`the online meeting information of ${who} is unchanged, so the meetings are already correct`, kind);
  }
  return { migrate: true, reason: `${describe(kind)}: the online meeting information of ${who} changed`, kind };
}

function describe(kind: ChangeKind): string {
  return kind.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().replace(/^./, (c) => c.toUpperCase());
}
