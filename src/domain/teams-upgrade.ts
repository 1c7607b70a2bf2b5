/**
 * TeamsUpgradePolicy (issue 12 §2): the reference's policy instances, the coexistence mode each sets, and which of
 * them make the user's new meetings Teams meetings — granting one of those to a user converts their Skype for
 * Business meetings (the reference's rule). Also the values of the tenant's hidden meeting-type settings.
 */
import type { SourceMeetingType, TargetMeetingType } from './migration.js';

/** The built-in policy instances Grant-CsTeamsUpgradePolicy -PolicyName takes (the reference's names). */
export const TEAMS_UPGRADE_POLICIES = ['Islands', 'SfBOnly', 'SfBWithTeamsCollab', 'SfBWithTeamsCollabAndMeetings', 'UpgradeToTeams'] as const;
export type TeamsUpgradePolicyName = (typeof TEAMS_UPGRADE_POLICIES)[number];

/** Coexistence modes (Get-CsTeamsUpgradePolicy's Mode). */
export type TeamsUpgradeMode = 'Islands' | 'SfBOnly' | 'SfBWithTeamsCollab' | 'SfBWithTeamsCollabAndMeetings' | 'TeamsOnly';

/** The reference's Global instance until an admin grants another: Islands. */
export const DEFAULT_TEAMS_UPGRADE_POLICY: TeamsUpgradePolicyName = 'Islands';

/** The mode a policy instance sets: UpgradeToTeams is TeamsOnly, every other instance is named after its mode. */
export function teamsUpgradeMode(policy: TeamsUpgradePolicyName): TeamsUpgradeMode {
  return policy === 'UpgradeToTeams' ? 'TeamsOnly' : policy;
}

/**
 * Whether a policy's mode schedules new meetings in Teams (TeamsOnly, SfBWithTeamsCollabAndMeetings): only granting
 * these converts meetings, and only these take -MigrateMeetingsToTeams $true (the reference's rule).
 */
export function convertsMeetings(policy: TeamsUpgradePolicyName): boolean {
  const mode = teamsUpgradeMode(policy);
  return mode === 'TeamsOnly' || mode === 'SfBWithTeamsCollabAndMeetings';
}

/** Set-CsTenantMigrationConfiguration -MeetingMigrationSourceMeetingTypes: which meetings automatic migrations touch. */
export const MEETING_MIGRATION_SOURCE_TYPES: readonly SourceMeetingType[] = ['All', 'SfB', 'Teams'];
/** -MeetingMigrationTargetMeetingTypes: `Teams` lets automatic migrations convert to Teams, `Current` never converts. */
export const MEETING_MIGRATION_TARGET_TYPES: readonly TargetMeetingType[] = ['Current', 'Teams'];

/** The policy a user has: their own, else the tenant's Global one (a per-user grant wins, as in the reference). */
export function effectiveTeamsUpgradePolicy(
  user: { readonly teamsUpgradePolicy: TeamsUpgradePolicyName | null },
  settings: { readonly teamsUpgradePolicy: TeamsUpgradePolicyName },
): TeamsUpgradePolicyName {
  return user.teamsUpgradePolicy ?? settings.teamsUpgradePolicy;
}
