import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The dashboard's chart (rate-repo.ts) counts a tenant's migrated meetings per minute over the last day, every few
 * seconds while the page is open: without this index that is a scan of the whole history, which grows with every
 * migration. With it, a range read of the day's rows.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('migration_meetings_tenant_at').on('migration_meetings').columns(['tenant_id', 'at']).execute();
}
