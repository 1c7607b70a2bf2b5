import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Get-CsMeetingMigrationStatus of a tenant (its listing, its total, -SummaryOnly's latest request per user) reads
 * migration_requests by tenant, and no index began with tenant_id: every listing scanned every tenant's whole
 * history, on SQLite and PostgreSQL alike (test/query-plans.test.ts found it, issue 13 §3). With this index it reads
 * the tenant's own rows, in the listing's order and within -StartTime/-EndTime by create_date.
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('migration_requests_tenant').on('migration_requests').columns(['tenant_id', 'create_date']).execute();
}
