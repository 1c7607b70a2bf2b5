import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Time zones (issue 6 §4). Floating times (no TZID, no Z) are read in the organizer's zone: a tenant zone
 * (default UTC, which is how every floating time was read before) and an optional per-user zone that overrides
 * it. Each stored object records the zone its floating times were derived with (null: it has none), the TZIDs
 * nobody could resolve, and whether it was derived with these rules at all: rows stored before this migration
 * are not, and a migration derives their times again when it plans them.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('tenants').addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC')).execute();
  await db.schema.alterTable('users').addColumn('time_zone', 'text').execute();
  await db.schema.alterTable('calendar_objects').addColumn('floating_zone', 'text').execute();
  await db.schema.alterTable('calendar_objects').addColumn('unknown_zones', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('calendar_objects').addColumn('zones_derived', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  // A zone change derives the tenant's floating objects again: find them without reading every object.
  await db.schema.createIndex('calendar_objects_floating').on('calendar_objects').columns(['tenant_id', 'floating_zone']).execute();
}
