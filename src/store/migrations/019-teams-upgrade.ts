import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Skype → Teams conversion triggers (issue 12 §2). A user's own TeamsUpgradePolicy (null: the tenant's), the
 * tenant's Global one (the reference's default, Islands), and the reference's hidden settings that narrow what
 * automatic migrations convert: MeetingMigrationSourceMeetingTypes (All, SfB, Teams; default All) and
 * MeetingMigrationTargetMeetingTypes (Current, Teams; default Teams: conversion allowed). Existing tenants get the
 * defaults, which change nothing for them: no trigger converted before.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('users').addColumn('teams_upgrade_policy', 'text').execute();
  await db.schema.alterTable('tenants').addColumn('teams_upgrade_policy', 'text', (c) => c.notNull().defaultTo('Islands')).execute();
  await db.schema.alterTable('tenants').addColumn('meeting_migration_source_meeting_types', 'text', (c) => c.notNull().defaultTo('All')).execute();
  await db.schema.alterTable('tenants').addColumn('meeting_migration_target_meeting_types', 'text', (c) => c.notNull().defaultTo('Teams')).execute();
}
