/** Directory types: tenants, bridges, users and their audio conferencing, as the cmdlets show them. */
import type { SourceMeetingType, TargetMeetingType } from './migration.js';
import type { TeamsUpgradePolicyName } from './teams-upgrade.js';

export const HOSTED_ON = ['OnPremises', 'Online'] as const;
export type HostedOn = (typeof HOSTED_ON)[number];

export const MAILBOX_LOCATIONS = ['Online', 'OnPremises'] as const;
export type MailboxLocation = (typeof MAILBOX_LOCATIONS)[number];

export const LICENSES = ['AudioConferencing'] as const;
export type License = (typeof LICENSES)[number];

/** `Microsoft` is the built-in provider (named as the admin docs name it); `ThirdParty` is an ACP. */
export type AcProvider = 'None' | 'Microsoft' | 'ThirdParty';

export interface ThirdPartyAcp {
  readonly name: string;
  readonly tollNumber: string;
  readonly tollFreeNumber: string | null;
  readonly participantPasscode: string;
  readonly url: string | null;
}

export interface TenantSettings {
  readonly meetingMigrationEnabled: boolean;
  readonly automaticallyMigrateUserMeetings: boolean;
  readonly automaticallyReplaceAcpProvider: boolean;
  /** Ours: skip meetings whose block the user edited instead of overwriting it. */
  readonly preserveEditedBlocks: boolean;
  readonly pinLength: number;
  readonly maxMeetingAttendees: number;
  /** Ours: IANA zone in which floating meeting times are read for users without a zone of their own. */
  readonly timeZone: string;
  /** The tenant's (Global) TeamsUpgradePolicy: what users without one of their own have (issue 12). */
  readonly teamsUpgradePolicy: TeamsUpgradePolicyName;
  /** The reference's hidden settings: which meetings automatic migrations touch, and whether they may convert to Teams. */
  readonly meetingMigrationSourceMeetingTypes: SourceMeetingType;
  readonly meetingMigrationTargetMeetingTypes: TargetMeetingType;
  /** Email users their own dial-in details and PIN when they change (Set-CsOnlineDialInConferencingTenantSettings; default true, as the reference). */
  readonly automaticallySendEmailsToUsers: boolean;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = Object.freeze({
  meetingMigrationEnabled: true,
  automaticallyMigrateUserMeetings: true,
  automaticallyReplaceAcpProvider: false,
  preserveEditedBlocks: false,
  pinLength: 5,
  maxMeetingAttendees: 250,
  timeZone: 'UTC',
  teamsUpgradePolicy: 'Islands',
  meetingMigrationSourceMeetingTypes: 'All',
  meetingMigrationTargetMeetingTypes: 'Teams',
  automaticallySendEmailsToUsers: true,
});

export const PIN_LENGTH_RANGE = [4, 12] as const;

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly domains: readonly string[];
  readonly meetingUrl: string;
  readonly onPremisesMeetingUrl: string;
  /** Base of Teams join links (issue 12): a converted or Teams meeting joins `<TeamsMeetingUrl>/19%3ameeting_<id>%40thread.v2/0?context=…`. */
  readonly teamsMeetingUrl: string;
  readonly settings: TenantSettings;
}

/** A tenant's Teams meeting URL unless New-MmsTenant -TeamsMeetingUrl gives another: Teams' own join links. */
export const DEFAULT_TEAMS_MEETING_URL = 'https://teams.microsoft.com/l/meetup-join';

export interface BridgeNumber {
  readonly number: string;
  readonly kind: 'Toll' | 'TollFree';
  readonly city: string;
  readonly languages: readonly string[];
}

export interface Bridge {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly isDefault: boolean;
  readonly onPremises: boolean;
  readonly defaultTollNumber: string | null;
  readonly defaultTollFreeNumber: string | null;
  readonly numbers: readonly BridgeNumber[];
}

export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly upn: string;
  readonly sipAddress: string;
  readonly displayName: string;
  readonly preferredLanguage: string;
  readonly hostedOn: HostedOn;
  readonly mailboxLocation: MailboxLocation;
  readonly licenses: readonly License[];
  readonly acProvider: AcProvider;
  readonly acp: ThirdPartyAcp | null;
  readonly acEnabled: boolean;
  /** The online bridge the user is provisioned on; null = the tenant's default online bridge. */
  readonly bridgeId: string | null;
  /** The user's default toll number; null = the bridge's default. */
  readonly tollNumber: string | null;
  readonly tollFreeNumber: string | null;
  readonly conferenceId: string;
  /** IANA zone in which the user's floating meeting times are read; null = the tenant's (settings.timeZone). */
  readonly timeZone: string | null;
  /** The user's own TeamsUpgradePolicy (Grant-CsTeamsUpgradePolicy -Identity); null = the tenant's. */
  readonly teamsUpgradePolicy: TeamsUpgradePolicyName | null;
}

/** The zone a user's floating meeting times are read in: their own, else the tenant's. */
export const effectiveTimeZone = (u: Pick<User, 'timeZone'>, t: Pick<Tenant, 'settings'>): string => u.timeZone ?? t.settings.timeZone;

export const hasAudioConferencingLicense = (u: User): boolean => u.licenses.includes('AudioConferencing');
