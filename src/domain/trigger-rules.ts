import type { TenantSettings, User } from './directory.js';
import { sameTarget, type MeetingTarget } from './meeting-target.js';
import { meetingTypeScope, migrationTypeFor, type MigrationType, type SourceMeetingType } from './migration.js';
import { effectiveTeamsUpgradePolicy, teamsUpgradeMode } from './teams-upgrade.js';

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
  // Skype → Teams conversion (issue 12 §2).
  'TeamsUpgradeGranted',
  'TeamsUpgradeGrantedWithoutMigration',
  'TeamsUpgradeModeChanged',
  'UserMovedToTeams',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Changes the docs name as never migrating, with the reason the audit log gives. */
const NEVER: Partial<Record<ChangeKind, string>> = {
  UserMovedOnPremises: 'moving a user from online to on-premises is not supported by MMS; update the meetings with the Meeting Migration Tool (Invoke-MmsMeetingMigrationTool)',
  LeaderPinReset: 'the leader PIN is not part of meeting invitations',
  SipAddressChanged: 'a SIP address change does not trigger MMS (documented non-trigger); run Start-CsExMeetingMigration to update meetings anyway',
  MeetingUrlChanged: 'Update-CsTenantMeetingUrl does not trigger MMS (documented non-trigger); run Start-CsExMeetingMigration per user to update meetings',
  TeamsUpgradeGrantedWithoutMigration: 'granted with -MigrateMeetingsToTeams $false: the meetings keep their type; convert them later with Start-CsExMeetingMigration -TargetMeetingType Teams',
  TeamsUpgradeModeChanged: 'the new coexistence mode schedules no Teams meetings, so nothing is converted (Teams meetings are never converted back to Skype for Business)',
};

/** Changes that convert Skype for Business meetings to Teams (SfbToTeams) rather than update what they show. */
const CONVERSION: ReadonlySet<ChangeKind> = new Set<ChangeKind>(['TeamsUpgradeGranted', 'UserMovedToTeams']);

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
  /** What the request does to which meetings (when `migrate`), already narrowed by the tenant's meeting-type settings. */
  readonly migrationType?: MigrationType | null;
  /** Why: the audit row's reason, written for an admin asking "why did (nothing) happen?". */
  readonly reason: string;
  /** The kind that decided it (for the request's TriggerReasons). */
  readonly kind: ChangeKind | null;
}

const no = (reason: string, kind: ChangeKind | null = null): TriggerDecision => ({ migrate: false, migrationType: null, reason, kind });
const yes = (reason: string, kind: ChangeKind, migrationType: MigrationType): TriggerDecision => ({ migrate: true, migrationType, reason, kind });

/**
 * Decides whether a change needs the user's meetings migrated, and how (the MigrationType), from the state before
 * and after. A change that alters what meetings show (join link, dial-in) updates them as they are (ToSameType); a
 * Teams upgrade converts the Skype for Business ones (SfbToTeams); a move online with -MoveToTeams does both, which
 * merges to AllToTeams. Each is narrowed by the tenant's MeetingMigrationSourceMeetingTypes and
 * MeetingMigrationTargetMeetingTypes (they restrict automatic migrations only).
 */
export function decideTrigger(input: TriggerInput): TriggerDecision {
  const convert = input.kinds.filter((k) => CONVERSION.has(k));
  const update = input.kinds.filter((k) => !CONVERSION.has(k));
  const u = update.length || !convert.length ? decideUpdate({ ...input, kinds: update }) : undefined;
  const c = convert.length ? decideConversion(input, convert[0] as ChangeKind) : undefined;
  if (u && c) {
    if (u.migrate && c.migrate) return yes(`${u.reason}; ${c.reason}`, c.kind as ChangeKind, mergeMigrationTypes(u.migrationType as MigrationType, c.migrationType as MigrationType));
    if (u.migrate) return { ...u, reason: `${u.reason}; not converted to Teams: ${c.reason}` };
    if (c.migrate) return c;
  }
  return (c ?? u) as TriggerDecision;
}

/** The gates every automatic migration passes: the tenant switch, then the mailbox (MMS cannot reach an on-premises one). */
function commonGate(settings: TenantSettings, after: User, kind: ChangeKind): TriggerDecision | undefined {
  const who = after.upn;
  if (!settings.meetingMigrationEnabled) {
    return no('MeetingMigrationEnabled is false for the tenant; turn it on with Set-CsTenantMigrationConfiguration -MeetingMigrationEnabled $true, then run Start-CsExMeetingMigration -Identity ' + who, kind);
  }
  if (after.mailboxLocation === 'OnPremises') {
    return no(`the mailbox of ${who} is on-premises, out of MMS's reach; use manual migration (Invoke-MmsMeetingMigrationTool -Identity ${who} -InputPath <exported .ics> -OutputPath <rewritten .ics> -MessagesPath <folder>) or move the mailbox online first`, kind);
  }
  return undefined;
}

/**
 * A Teams upgrade (TeamsUpgradePolicy granted, Move-CsUser -MoveToTeams): the reference converts the meetings of
 * online users on the built-in provider (or none) to Teams. The tenant's meeting-type settings may forbid it.
 */
function decideConversion(input: TriggerInput, kind: ChangeKind): TriggerDecision {
  const { settings, after } = input;
  const who = after.upn;
  const gate = commonGate(settings, after, kind);
  if (gate) return gate;
  if (after.acProvider === 'ThirdParty') {
    return no(`${who} uses the third-party audio conferencing provider ${after.acp?.name ?? 'a third-party provider'}: MMS does not convert these meetings; they must be recreated as Teams meetings (or move the user to Microsoft audio conferencing first)`, kind);
  }
  if (after.hostedOn === 'OnPremises') {
    return no(`${who} is homed on-premises: only online users' meetings are converted; Move-CsUser -Identity ${who} -Target Online -MoveToTeams moves and converts them`, kind);
  }
  const narrowed = narrowMigrationType('SfbToTeams', settings);
  if (narrowed === null || meetingTypeScope(narrowed).target !== 'Teams') {
    const why = narrowed === null
      ? `MeetingMigrationSourceMeetingTypes is ${settings.meetingMigrationSourceMeetingTypes}: automatic migrations leave Skype for Business meetings alone`
      : `MeetingMigrationTargetMeetingTypes is ${settings.meetingMigrationTargetMeetingTypes}: automatic migrations do not convert meetings to Teams`;
    return no(`${why}; convert them with Start-CsExMeetingMigration -Identity ${who} -SourceMeetingType SfB -TargetMeetingType Teams`, kind);
  }
  if (kind === 'UserMovedToTeams') return yes(`${who} moved to Teams (Move-CsUser -MoveToTeams): the Skype for Business meetings become Teams meetings`, kind, narrowed);
  const policy = effectiveTeamsUpgradePolicy(after, settings);
  return yes(`${who} now has TeamsUpgradePolicy ${policy} (mode ${teamsUpgradeMode(policy)}): new meetings are Teams meetings, so the Skype for Business meetings are converted to Teams`, kind, narrowed);
}

/**
 * Whether a change of what meetings show (join link, dial-in) needs them updated, keeping each meeting's type.
 * The order of the checks is the order an admin reads them in the docs: documented non-triggers, the tenant
 * switch, the mailbox, the provider, then the audio-conferencing gate.
 */
function decideUpdate(input: TriggerInput): TriggerDecision {
  const { kinds, settings, after } = input;
  const who = after.upn;
  const relevant = kinds.filter((k) => !NEVER[k]);
  if (relevant.length === 0) {
    const k = kinds[0] ?? null;
    return no(k ? (NEVER[k] as string) : 'nothing changed', k);
  }
  const kind = relevant.includes('UserMovedOnline') ? 'UserMovedOnline' : (relevant[0] as ChangeKind);
  const gate = commonGate(settings, after, kind);
  if (gate) return gate;
  if (after.acProvider === 'ThirdParty') {
    const name = after.acp?.name ?? 'a third-party provider';
    if (kind === 'LicenseAssigned') {
      return no(`${who} stays on ${name}: AutomaticallyReplaceAcpProvider is false, so the ACP numbers are retained; run Enable-CsOnlineDialInConferencingUser -Identity ${who} -ReplaceProvider to switch to Microsoft`, kind);
    }
    return no(`${who} uses the third-party audio conferencing provider ${name}: MMS does not update these meetings; they must be updated manually (Meeting Migration Tool)`, kind);
  }
  // Updating keeps each meeting's type; MeetingMigrationSourceMeetingTypes may narrow which meetings (never to none).
  const type = narrowMigrationType('ToSameType', settings) as MigrationType;
  if (kind === 'UserMovedOnline') {
    return yes(`${who} moved from on-premises to online: join link and dial-in information change`, kind, type);
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
  return yes(`${describe(kind)}: the online meeting information of ${who} changed`, kind, type);
}

/** Which meetings both sides name: All gives way to the other; SfB and Teams have none in common (null). */
function intersect(a: SourceMeetingType, b: SourceMeetingType): SourceMeetingType | null {
  if (a === 'All') return b;
  if (b === 'All') return a;
  return a === b ? a : null;
}

/**
 * The MigrationType an automatic trigger queues under the tenant's meeting-type settings: the meetings it touches
 * are those MeetingMigrationSourceMeetingTypes allows too, and with MeetingMigrationTargetMeetingTypes Current it
 * converts nothing (the meetings keep their type). Null when no meeting is left. Start-CsExMeetingMigration is an
 * admin's explicit request and is not narrowed.
 */
export function narrowMigrationType(
  t: MigrationType,
  settings: Pick<TenantSettings, 'meetingMigrationSourceMeetingTypes' | 'meetingMigrationTargetMeetingTypes'>,
): MigrationType | null {
  const scope = meetingTypeScope(t);
  const source = intersect(scope.source, settings.meetingMigrationSourceMeetingTypes);
  if (source === null) return null;
  return migrationTypeFor(source, settings.meetingMigrationTargetMeetingTypes === 'Current' ? 'Current' : scope.target);
}

/**
 * How two triggers of the same user merge into the one Pending request (coalescing): the request touches the
 * meetings either touched (different sources: All) and converts to Teams when either converts (a Teams target
 * wins: a converted meeting is written from the current directory state, so it is also up to date). Order does
 * not matter. E.g. ToSameType + SfbToTeams = AllToTeams; SfbToSfb + TeamsToTeams = ToSameType.
 */
export function mergeMigrationTypes(a: MigrationType, b: MigrationType): MigrationType {
  const x = meetingTypeScope(a);
  const y = meetingTypeScope(b);
  const source: SourceMeetingType = x.source === y.source ? x.source : 'All';
  return migrationTypeFor(source, x.target === 'Teams' || y.target === 'Teams' ? 'Teams' : 'Current');
}

function describe(kind: ChangeKind): string {
  return kind.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().replace(/^./, (c) => c.toUpperCase());
}

/**
 * The audit reason with what the request does when that is not the plain update (ToSameType): the MigrationType
 * queued, or, when the trigger merged into a Pending request of another type, the type the request has now.
 */
export function typeNote(reason: string, queued: MigrationType, r: { migrationType: MigrationType; mergedFrom?: MigrationType }): string {
  if (r.mergedFrom !== undefined && r.mergedFrom !== r.migrationType) return `${reason}; MigrationType ${r.mergedFrom} + ${queued} = ${r.migrationType}`;
  return queued !== 'ToSameType' ? `${reason}; MigrationType ${queued}` : reason;
}
