import type { Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * The claim asks, for every Pending request, whether its user already has one InProgress (claimRequests,
 * msUntilRunnable): `tenant_id = ? and user_id = ? and state = 'InProgress'`. With migration_requests_tenant (021)
 * and migration_requests_user both matching one of those columns, SQLite without statistics (nobody runs ANALYZE
 * on the embedded database) took the tenant's index, so each Pending request read the tenant's whole request
 * history: a tenant-wide change of 2,000 users spent ~0.8 s of CPU per claim (full-size bench, issue 13). An index
 * on all three columns is the one any planner picks for it, with or without statistics, and leads with tenant_id
 * (the distribution column on Citus, docs/SCALING.md).
 */
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('migration_requests_user_state').on('migration_requests').columns(['tenant_id', 'user_id', 'state']).execute();
}
