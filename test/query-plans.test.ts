// No lookup turns into a scan as data grows (issue 13 §3). Three tenants' meetings (several thousand calendar
// objects), a history of finished migrations in two of them (real runs, then copied back in time so the queue,
// the ledger and the outbox hold thousands of rows), ANALYZE; then a real migration of the third tenant runs on a
// traced handle, and every statement it sent that names calendar_objects, migration_requests, outbox or
// migration_meetings is EXPLAINed with its own parameters: none may scan those tables. The named lookups
// (test/helpers/query-plans.ts: the organizer's meetings, an attendee's copy by owner and UID, the queue claim,
// the ledger of a request, the status listings) must each also reach them through an index. The SQL is what the
// code sends (recorded by a Kysely plugin), never a copy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { TEST_DATABASES } from './helpers/databases.js';
import { buildWorld, type World } from './helpers/world.js';
import { checkLookups, explain, growingStatements, tracedDb, type LookupCheck, type PlanVerdict } from './helpers/query-plans.js';
import { setDialInUser } from '../src/directory/index.js';
import { MigrationWorker, startMigration, type Logger } from '../src/migration/index.js';
import type { Database, Db } from '../src/store/index.js';

const SILENT: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const DAY = 86_400_000;
// Contoso (under test) last.
const TENANTS = [['Fabrikam', 'fabrikam.example'], ['Tailspin', 'tailspin.example'], ['Contoso', 'contoso.com']] as const;
const ORGANIZERS = 10;
const MEETINGS = 20;
/** Older copies of each finished migration put into the history of the tenants not under test. */
const HISTORY_COPIES = 20;

const LOOKUPS = [
  'organizer\'s meetings (listOrganized)',
  'attendee copy by owner and UID (get)',
  'attendee copies of a batch (readCopies)',
  'queue claim (claimRequests)',
  'ledger of a request (countMeetings, firstFailure)',
  'Get-CsMeetingMigrationStatus (tenant, first 50)',
  'Get-CsMeetingMigrationStatus -Identity',
  'Get-CsMeetingMigrationStatus -SummaryOnly',
  'Get-CsMeetingMigrationTransactionHistory -Identity',
  'Get-MmsOutbox -Identity',
] as const;

/** Every organizer's conference ID reset: each meeting's block goes stale, and the worker migrates them all. */
async function migrateAll(w: World, worker: MigrationWorker): Promise<string[]> {
  const ids: string[] = [];
  for (const upn of w.organizers) {
    const out = await setDialInUser(w.ctx, w.tenant.id, upn, { resetConferenceId: true });
    if (out.correlationId) ids.push(out.correlationId);
  }
  assert.equal(ids.length, w.organizers.length, 'each reset queued a migration');
  await worker.drain();
  return ids;
}

/**
 * Copies a tenant's finished migrations back in time `copies` times: requests, ledger rows and notifications, one
 * INSERT ... SELECT per table over a series 1..copies (row by row from JavaScript this was most of the fixture's
 * time). Every column is copied as it is but for the ids (a suffix per copy) and the times (a week back per copy).
 */
async function copyHistory(k: Kysely<Database>, tenantId: string, copies: number): Promise<void> {
  const back = sql`(cast(${sql.lit(7 * DAY)} as bigint) * s.n)`;
  const changed = {
    migration_requests: { id: sql`t.id || '-h' || s.n`, state: sql`'Succeeded'`, create_date: sql`t.create_date - ${back}`, modified_date: sql`t.modified_date - ${back}`, not_before: sql`t.not_before - ${back}` },
    migration_meetings: { correlation_id: sql`t.correlation_id || '-h' || s.n`, at: sql`t.at - ${back}` },
    outbox: { correlation_id: sql`t.correlation_id || '-h' || s.n`, created_at: sql`t.created_at - ${back}`, state: sql`case when t.internal <> 0 then t.state else 'Sent' end`, sent_at: sql`t.created_at - ${back}` },
  } as const;
  for (const [table, set] of Object.entries(changed) as Array<[keyof typeof changed, Record<string, RawBuilder<unknown>>]>) {
    const one = await k.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).limit(1).executeTakeFirstOrThrow();
    // The ledger's and the outbox's own ids are serial: the copies get new ones.
    const columns = Object.keys(one).filter((c) => table === 'migration_requests' || c !== 'id');
    await sql`with recursive s(n) as (select 1 union all select n + 1 from s where n < ${sql.lit(copies)})
      insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))})
      select ${sql.join(columns.map((c) => set[c] ?? sql.ref(`t.${c}`)))} from ${sql.table(table)} t cross join s where t.tenant_id = ${tenantId}`.execute(k);
  }
}

/** Planner statistics of this database's own tables (on PostgreSQL a bare ANALYZE visits every schema of the database). */
async function analyze(db: Db): Promise<void> {
  if (db.dialect !== 'postgres') return void (await sql`analyze`.execute(db.kysely));
  const tables = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db.kysely);
  await sql`analyze ${sql.join(tables.rows.map((t) => sql.table(t.name)))}`.execute(db.kysely);
}

const show = (v: PlanVerdict) => `${v.sql}\n    ${v.plan.join('\n    ')}`;

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the engine's lookups stay indexed as data grows`, { skip: t.skip }, () => {
    let handle: Awaited<ReturnType<typeof t.fresh>>;
    let db: Db;
    let migrationPlans: PlanVerdict[] = [];
    let checks: LookupCheck[] = [];
    let counts: Record<string, number> = {};

    before(async () => {
      handle = await t.fresh();
      db = handle.db;
      // Built side by side: on PostgreSQL most of a world's time is round trips, which then overlap (SQLite's one
      // connection takes them in turn).
      const worlds = await Promise.all(TENANTS.map(([name, domain]) =>
        buildWorld(db, { organizers: ORGANIZERS, meetingsPerOrganizer: MEETINGS, internalPerMeeting: 4, externalPerMeeting: 2, internalPool: 'organizers', domain, name })));
      const contoso = worlds[2] as World;
      const others = worlds.slice(0, 2);
      const worker = new MigrationWorker({ db, logger: SILENT });
      for (const w of others) {
        await migrateAll(w, worker);
        await copyHistory(db.kysely, w.tenant.id, HISTORY_COPIES);
      }
      await analyze(db);
      for (const table of ['calendar_objects', 'migration_requests', 'migration_meetings', 'outbox'] as const) {
        counts[table] = Number((await db.kysely.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      }

      // The migration under test: every statement the worker sends, on a traced handle.
      const traced = tracedDb(db);
      const ids = await migrateAll(contoso, new MigrationWorker({ db: traced.db, logger: SILENT }));
      traced.recorder.on = false;
      for (const st of growingStatements(traced.statements)) migrationPlans.push(await explain(db, st));

      // A queued request for the claim to find, then the named lookups.
      const organizer = contoso.organizers[0] as string;
      await startMigration(db, contoso.tenant, [organizer], { actor: 'test', now: Date.now });
      checks = await checkLookups(db, { tenant: contoso.tenant, organizerId: await contoso.userId(organizer), organizerUpn: organizer, correlationId: ids[0] as string }, Date.now());
    });
    after(() => handle?.drop());

    it('holds several thousand calendar objects and thousands of history rows before it looks', () => {
      assert.ok((counts.calendar_objects ?? 0) >= 3000, `calendar_objects: ${counts.calendar_objects}`);
      assert.ok((counts.migration_requests ?? 0) >= 400, `migration_requests: ${counts.migration_requests}`);
      assert.ok((counts.migration_meetings ?? 0) >= 8000, `migration_meetings: ${counts.migration_meetings}`);
      assert.ok((counts.outbox ?? 0) >= 8000, `outbox: ${counts.outbox}`);
    });

    it('no statement of a real migration scans calendar_objects, migration_requests, outbox or migration_meetings', () => {
      // The recorder saw the engine's statements: the listing, the batch's copy reads and rewrites, the ledger.
      assert.ok(migrationPlans.length >= 5, `only ${migrationPlans.length} statements recorded`);
      const scanning = migrationPlans.filter((v) => v.scans.length);
      assert.deepEqual(scanning.map(show), [], 'statements that scan a growing table');
    });

    for (const name of LOOKUPS) {
      it(`${name} reaches its table through an index, never a scan`, () => {
        const c = checks.find((x) => x.name === name);
        assert.ok(c, `the lookup ${name} was not run`);
        assert.ok(c.verdicts.length, `${name}: no statement naming a growing table was recorded (is its SQL still sent through Kysely?)`);
        assert.deepEqual(c.verdicts.filter((v) => v.scans.length).map(show), [], `${name}: statements that scan`);
        assert.ok(c.verdicts.some((v) => v.indexed), `${name}: no statement uses an index:\n${c.verdicts.map(show).join('\n')}`);
      });
    }

    it('a lookup on a column no index covers is reported as a scan (the check can fail)', async () => {
      const traced = tracedDb(db);
      await traced.db.kysely.selectFrom('calendar_objects').select('id').where('summary', '=', 'Planning 1.1').execute();
      const [v] = await Promise.all(growingStatements(traced.statements).map((st) => explain(db, st)));
      assert.ok(v, 'the statement was recorded');
      assert.deepEqual(v.scans.length, 1, show(v));
      assert.equal(v.indexed, false, show(v));
    });
  });
}
