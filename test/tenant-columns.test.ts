// Every table carries the tenant (issue 13 §4, docs/SCALING.md): on a distributed PostgreSQL (Citus) `tenant_id` is
// the distribution column of every tenant table, so that a tenant's rows live on one node and its queries stay on
// one shard. The check reads the live schema after every migration ran — SQLite's table_info, PostgreSQL's
// information_schema — so a table added later without the column fails here, not in production on Citus. Only
// the control-plane tables of store/global-tables.ts may lack it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { TEST_DATABASES } from './helpers/databases.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { GLOBAL_TABLES } from '../src/store/global-tables.js';
import { claimRequests, openUndoRequest } from '../src/store/queue-repo.js';

interface Column {
  readonly table: string;
  readonly name: string;
  /** NOT NULL, or (SQLite) the primary key: either way every row names its tenant. */
  readonly required: boolean;
}

/** Every column of every table of the live schema (this database's, or on PostgreSQL the schema in use). */
async function liveColumns(db: Db): Promise<Column[]> {
  if (db.dialect === 'postgres') {
    const r = await sql<{ table_name: string; column_name: string; is_nullable: string }>`
      select c.table_name, c.column_name, c.is_nullable from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'`.execute(db.kysely);
    return r.rows.map((x) => ({ table: x.table_name, name: x.column_name, required: x.is_nullable === 'NO' }));
  }
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db.kysely);
  const out: Column[] = [];
  for (const { name } of tables.rows) {
    const cols = await sql<{ name: string; notnull: number; pk: number }>`select name, "notnull", pk from pragma_table_info(${name})`.execute(db.kysely);
    for (const c of cols.rows) out.push({ table: name, name: c.name, required: c.notnull === 1 || c.pk > 0 });
  }
  return out;
}

/** What is wrong with the schema: tables without a required tenant_id that are not global, global tables that no longer exist. */
async function tenantColumnProblems(db: Db): Promise<string[]> {
  const columns = await liveColumns(db);
  const tables = [...new Set(columns.map((c) => c.table))].sort();
  const problems: string[] = [];
  for (const table of tables) {
    if (table in GLOBAL_TABLES) continue;
    const tenant = columns.find((c) => c.table === table && c.name === 'tenant_id');
    if (!tenant) problems.push(`${table} has no tenant_id: add it (a migration, backfilled from the parent row) or list the table in src/store/global-tables.ts with why it is global`);
    else if (!tenant.required) problems.push(`${table}.tenant_id may be null: every row of a tenant table names its tenant (NOT NULL)`);
  }
  for (const table of Object.keys(GLOBAL_TABLES)) {
    if (!tables.includes(table)) problems.push(`${table} is listed in src/store/global-tables.ts but does not exist`);
  }
  return problems;
}

async function addTenantAndRequest(k: Kysely<any>, tenant: string, requestId: string, state: 'Pending' | 'Succeeded' = 'Pending') {
  await k.insertInto('tenants').values({ id: tenant, name: tenant, domains: '[]', meeting_url: 'u', on_premises_meeting_url: 'u', meeting_migration_enabled: 1, automatically_migrate_user_meetings: 1, automatically_replace_acp_provider: 0, preserve_edited_blocks: 0, pin_length: 5, max_meeting_attendees: 250, created_at: 1 }).execute();
  await k.insertInto('users').values({ id: `${tenant}-u`, tenant_id: tenant, upn: `a@${tenant}`, sip_address: `sip:a@${tenant}`, display_name: 'A', preferred_language: 'en-US', hosted_on: 'Online', mailbox_location: 'Online', licenses: '[]', ac_provider: 'None', acp: null, ac_enabled: 0, bridge_id: null, toll_number: null, toll_free_number: null, conference_id: '1', leader_pin_hash: 'x', created_at: 1, modified_at: 1 }).execute();
  await k.insertInto('migration_requests').values({ id: requestId, tenant_id: tenant, user_id: `${tenant}-u`, state, migration_type: 'ToSameType', trigger_reasons: '[]', create_date: 1, modified_date: 1, not_before: 1, retry_count: 0, total_meeting: 0, succeeded_meeting: 0, failed_meeting: 0, skipped_meeting: 0, invites_update: 0, last_message: '', lease_owner: null, lease_expires_at: null }).execute();
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: tenant_id on every tenant table`, { skip: t.skip }, () => {
    it('every table but the documented global ones has a NOT NULL tenant_id', async () => {
      const { db, drop } = await t.fresh();
      try {
        const columns = await liveColumns(db);
        assert.ok(columns.some((c) => c.table === 'calendar_objects' && c.name === 'tenant_id'), 'the schema reader found no calendar_objects.tenant_id: it reads the wrong schema');
        assert.deepEqual(await tenantColumnProblems(db), []);
      } finally {
        await drop();
      }
    });

    it('a table added without tenant_id is reported', async () => {
      const { db, drop } = await t.fresh();
      try {
        await sql`create table forgot_the_tenant (id text primary key, note text)`.execute(db.kysely);
        await sql`create table tenant_optional (id text primary key, tenant_id text)`.execute(db.kysely);
        const problems = await tenantColumnProblems(db);
        assert.equal(problems.length, 2, problems.join('\n'));
        assert.match(problems.join('\n'), /forgot_the_tenant has no tenant_id/);
        assert.match(problems.join('\n'), /tenant_optional\.tenant_id may be null/);
      } finally {
        await drop();
      }
    });

    it('a claim and an undo record their attempt under the request\'s tenant, and an attempt without one is refused', async () => {
      const { db, drop } = await t.fresh();
      try {
        const k = db.kysely as Kysely<any>;
        await addTenantAndRequest(k, 'contoso', 'r-contoso');
        await addTenantAndRequest(k, 'fabrikam', 'r-fabrikam', 'Succeeded');
        const [claimed] = await claimRequests(db, 'w1', 10, 60_000, 5);
        assert.equal(claimed?.correlationId, 'r-contoso');
        const undoAttempt = await openUndoRequest(db, { id: 'undo-f', tenantId: 'fabrikam', userId: 'fabrikam-u', migrationType: 'ToSameType', reason: 'Undo:r-fabrikam' }, 'w1', 10, 60_000);
        assert.ok(undoAttempt !== null, 'the undo found a migration of the user running');
        const attempts = await k.selectFrom('migration_attempts').select(['correlation_id', 'tenant_id']).orderBy('id').execute();
        assert.deepEqual(attempts, [{ correlation_id: 'r-contoso', tenant_id: 'contoso' }, { correlation_id: 'undo-f', tenant_id: 'fabrikam' }]);
        await assert.rejects(k.insertInto('migration_attempts').values({ correlation_id: 'r-contoso', worker_id: 'w1', started_at: 1 }).execute(), /null|NOT NULL/i);
      } finally {
        await drop();
      }
    });

    it('migration 022 gives attempts recorded before it their request\'s tenant and drops attempts of no request', async () => {
      const { db, url, drop } = await t.fresh();
      let reopened: Db | undefined;
      try {
        const k = db.kysely as Kysely<any>;
        await addTenantAndRequest(k, 'contoso', 'r1');
        // migration_attempts as migration 002 made it, with rows, and 022 not applied yet.
        await k.schema.dropTable('migration_attempts').execute();
        await k.schema.createTable('migration_attempts')
          .addColumn('id', db.dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (db.dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('correlation_id', 'text', (c) => c.notNull())
          .addColumn('worker_id', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint')
          .addColumn('outcome', 'text')
          .execute();
        await k.insertInto('migration_attempts').values([
          { correlation_id: 'r1', worker_id: 'w1', started_at: 1, ended_at: 2, outcome: 'Released' },
          { correlation_id: 'gone', worker_id: 'w1', started_at: 1, ended_at: 2, outcome: 'Succeeded' },
          { correlation_id: 'r1', worker_id: 'w2', started_at: 3, ended_at: null, outcome: null },
        ]).execute();
        await k.deleteFrom('mms_schema_migrations').where('name', '=', '022-tenant-columns').execute();
        // A second handle runs the migration (the first stays open: drop() closes it).
        reopened = await openDatabase(url);
        const rows = await (reopened.kysely as Kysely<any>).selectFrom('migration_attempts').select(['id', 'correlation_id', 'worker_id', 'tenant_id']).orderBy('id').execute();
        assert.deepEqual(rows.map((r) => ({ ...r, id: Number(r.id) })), [
          { id: 1, correlation_id: 'r1', worker_id: 'w1', tenant_id: 'contoso' },
          { id: 3, correlation_id: 'r1', worker_id: 'w2', tenant_id: 'contoso' },
        ]);
        assert.deepEqual(await tenantColumnProblems(reopened), []);
        // New attempts go on after the highest id kept, under the request's tenant.
        const [claimed] = await claimRequests(reopened, 'w3', 10, 60_000, 1, ['r1']);
        assert.equal(claimed?.attemptId, 4);
        const added = await (reopened.kysely as Kysely<any>).selectFrom('migration_attempts').select('tenant_id').where('id', '=', 4).executeTakeFirstOrThrow();
        assert.equal(added.tenant_id, 'contoso');
      } finally {
        await reopened?.close();
        await drop();
      }
    });
  });
}
