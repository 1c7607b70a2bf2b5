/** Migration request states, as Get-CsMeetingMigrationStatus shows them. */
export const MIGRATION_STATES = ['Pending', 'InProgress', 'Failed', 'Succeeded'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

/** MigrationType values of the reference (Get-CsMeetingMigrationStatus). */
export const MIGRATION_TYPES = ['SfbToSfb', 'SfbToTeams', 'TeamsToTeams', 'ToSameType', 'AllToTeams', 'Unknown'] as const;
export type MigrationType = (typeof MIGRATION_TYPES)[number];

/** Online meeting types (issue 12): a Skype for Business meeting or a Teams meeting. */
export const MEETING_TYPES = ['SfB', 'Teams'] as const;
export type MeetingType = (typeof MEETING_TYPES)[number];

/** Start-CsExMeetingMigration's -SourceMeetingType (which meetings) and -TargetMeetingType (what they become). */
export type SourceMeetingType = 'All' | MeetingType;
export type TargetMeetingType = 'Current' | 'Teams';

/**
 * What a request's MigrationType means, as the reference defines its values: which meetings it touches and whether
 * they keep their type or become Teams meetings. `Unknown` (records of old requests) touches all, same type.
 */
export function meetingTypeScope(t: MigrationType): { readonly source: SourceMeetingType; readonly target: TargetMeetingType } {
  switch (t) {
    case 'SfbToSfb': return { source: 'SfB', target: 'Current' };
    case 'SfbToTeams': return { source: 'SfB', target: 'Teams' };
    case 'TeamsToTeams': return { source: 'Teams', target: 'Current' };
    case 'AllToTeams': return { source: 'All', target: 'Teams' };
    case 'ToSameType':
    case 'Unknown': return { source: 'All', target: 'Current' };
  }
}

/** The MigrationType for Start-CsExMeetingMigration's -SourceMeetingType and -TargetMeetingType. */
export function migrationTypeFor(source: SourceMeetingType, target: TargetMeetingType): MigrationType {
  if (target === 'Teams') return source === 'Teams' ? 'TeamsToTeams' : source === 'SfB' ? 'SfbToTeams' : 'AllToTeams';
  return source === 'SfB' ? 'SfbToSfb' : source === 'Teams' ? 'TeamsToTeams' : 'ToSameType';
}
