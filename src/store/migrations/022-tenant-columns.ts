import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Every tenant table carries `tenant_id` (issue 13 §4, docs/SCALING.md): on a distributed PostgreSQL (Citus) it is
 * the distribution column, and a table without it cannot be co-located with its tenant's requests, so every
 * statement touching it would fan out to all shards. `migration_attempts` was the one tenant table without it: it
 * gets its request's tenant, NOT NULL without a default (so an insert that forgets it fails on both databases
 * instead of writing a row no shard owns).
 *
 * The tables left without a tenant are global on purpose (store/global-tables.ts, checked by
 * test/tenant-columns.test.ts): `tenants` (its `id` is the tenant), `api_tokens`, `admin_accounts` and
 * `web_sessions` (read by a secret's hash or a sign-in name before any tenant is known; a ServiceAdmin's rows belong
 * to no tenant), `worker_heartbeats` (one row per worker process, which serves every tenant), `telemetry_key_check` (the
 * fingerprint of the one telemetry key) and `mms_schema_migrations`.
 *
 * An attempt whose request is gone has no tenant to take; history pruning deletes both together, so such a row is
 * left over from nothing and is deleted here.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await sql`delete from migration_attempts where correlation_id not in (select id from migration_requests)`.execute(db);
  if (dialect === 'postgres') {
    await db.schema.alterTable('migration_attempts').addColumn('tenant_id', 'text').execute();
    await sql`update migration_attempts a set tenant_id = r.tenant_id from migration_requests r where r.id = a.correlation_id`.execute(db);
    await db.schema.alterTable('migration_attempts').alterColumn('tenant_id', (c) => c.setNotNull()).execute();
  } else {
    // SQLite adds a NOT NULL column only with a default, and a default would hide an insert that forgets the
    // tenant: the table is copied into one declared with the column instead (the ids kept, so AUTOINCREMENT goes on
    // from the highest; nothing references this table).
    await db.schema.createTable('migration_attempts_022')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('correlation_id', 'text', (c) => c.notNull())
      .addColumn('worker_id', 'text', (c) => c.notNull())
      .addColumn('started_at', 'integer', (c) => c.notNull())
      .addColumn('ended_at', 'integer')
      .addColumn('outcome', 'text')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into migration_attempts_022 (id, correlation_id, worker_id, started_at, ended_at, outcome, tenant_id)
      select a.id, a.correlation_id, a.worker_id, a.started_at, a.ended_at, a.outcome, r.tenant_id
      from migration_attempts a join migration_requests r on r.id = a.correlation_id`.execute(db);
    await db.schema.dropTable('migration_attempts').execute();
    await db.schema.alterTable('migration_attempts_022').renameTo('migration_attempts').execute();
    await db.schema.createIndex('migration_attempts_request').on('migration_attempts').columns(['correlation_id']).execute();
  }
}
