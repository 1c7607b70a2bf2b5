/** Migration request states, as Get-CsMeetingMigrationStatus shows them. */
export const MIGRATION_STATES = ['Pending', 'InProgress', 'Failed', 'Succeeded'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

/** MigrationType values of the reference; this service only migrates to the same meeting type. */
export const MIGRATION_TYPES = ['SfbToSfb', 'SfbToTeams', 'TeamsToTeams', 'ToSameType', 'AllToTeams', 'Unknown'] as const;
export type MigrationType = (typeof MIGRATION_TYPES)[number];
