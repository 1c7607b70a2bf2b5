// Many workers, one PostgreSQL: pgbouncer in transaction pool mode between them (docs/SCALING.md). Two `mms serve`
// processes and the directory API reach PostgreSQL only through a pgbouncer of the test's own whose pool holds
// POOL server connections, and a tenant-wide change still runs to Succeeded for every organizer. That holds only
// because nothing of ours keeps state on a server connection between transactions: no named prepared statements
// (node-postgres prepares unnamed ones), no session advisory lock (the schema migration's lock is
// pg_advisory_xact_lock), no SET outside a transaction, and the claim's FOR UPDATE SKIP LOCKED is inside one. A
// LISTEN would be such state: through transaction pooling it hears nothing, so a wake-up by NOTIFY needs a direct
// connection and the worker's poll is what remains (docs/SCALING.md, "pgbouncer").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PG_URL, TEST_DATABASES } from './helpers/databases.js';
import { PGBOUNCER_SKIP, PgBouncer } from './helpers/pgbouncer.js';
import { buildWorld, WORLD_NUMBERS } from './helpers/world.js';
import { killAllWorkers, startWorker, stopWorker, waitFor, type WorkerSettings } from './helpers/worker-process.js';
import { unregisterServiceNumber } from '../src/directory/index.js';
import { openDatabase, type Db } from '../src/store/index.js';

const ORGANIZERS = 8;
const MEETINGS_PER_ORGANIZER = 4;
/** Server connections pgbouncer may open to the database: fewer than any one worker's own pool (10). */
const POOL = 3;
const WORKER: Omit<WorkerSettings, 'url'> = { leaseMs: 10_000, pollMs: 50, batchSize: 2 };

const pgHalf = TEST_DATABASES.find((t) => t.name === 'postgres');
const skip = PGBOUNCER_SKIP ?? pgHalf?.skip;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('postgres through pgbouncer (transaction pooling)', { skip }, () => {
  it('two workers and the directory share a few pooled connections and a tenant-wide change runs to Succeeded', { timeout: 150_000 }, async (tc) => {
    const say = (line: string) => tc.diagnostic(line);
    // A database of the test's own: pgbouncer passes no `options`, so the suite's schema-per-test (search_path in
    // the URL's options) cannot be used through it.
    const database = `mms_pgb_${randomBytes(6).toString('hex')}`;
    await admin((c) => c.query(`create database ${database}`));
    let bouncer: PgBouncer | undefined;
    let db: Db | undefined;
    try {
      bouncer = await PgBouncer.start({ upstream: PG_URL, poolSize: POOL });
      const url = bouncer.url(database);
      // The schema migrations run through pgbouncer too (one transaction, its advisory lock transaction-scoped).
      db = await openDatabase(url, { poolSize: 4, applicationName: 'mms-pgbouncer-test' });
      const world = await buildWorld(db, { organizers: ORGANIZERS, meetingsPerOrganizer: MEETINGS_PER_ORGANIZER, internalPerMeeting: 2, externalPerMeeting: 1, internalPool: 'organizers' });

      const workers = [startWorker({ url, ...WORKER }), startWorker({ url, ...WORKER })];
      const ids = await Promise.all(workers.map((w) => w.ready));

      const { outcomes } = await unregisterServiceNumber(world.ctx, world.tenant.id, { number: WORLD_NUMBERS.toll, bridgeName: world.bridge.name, removeDefaultServiceNumber: true });
      const requests = [...new Set(outcomes.map((o) => o.correlationId).filter((c): c is string => c !== null))];
      assert.equal(requests.length, ORGANIZERS, `unassigning the number queued ${requests.length} requests for ${ORGANIZERS} organizers`);

      // While the workers run, count the server connections PostgreSQL has to this database (all of them pgbouncer's).
      let mostServers = 0;
      await waitFor(`all ${ORGANIZERS} requests to succeed through pgbouncer`, async () => {
        for (const w of workers) if (!w.alive) throw new Error(`worker ${w.pid} died:\n${w.output().slice(-4000)}`);
        const n = await admin((c) => c.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [database]));
        mostServers = Math.max(mostServers, Number(n.rows[0]?.n ?? 0));
        const rows = await db!.kysely.selectFrom('migration_requests').select(['id', 'state', 'last_message']).where('id', 'in', requests).execute();
        const bad = rows.find((r) => r.state === 'Failed' || (r.state === 'Pending' && r.last_message));
        if (bad) throw new Error(`request ${bad.id} is ${bad.state}: ${bad.last_message}\n${workers.map((w) => w.output().slice(-2000)).join('\n')}`);
        return rows.every((r) => r.state === 'Succeeded');
      }, { timeoutMs: 90_000, intervalMs: 100 });

      // The workers really were pgbouncer's clients (not connected around it): each one's pool shows up there by
      // its application_name, and transactions went through.
      const clients = await bouncer.show<{ database: string; application_name: string }>('CLIENTS');
      const names = new Set(clients.filter((c) => c.database === database).map((c) => c.application_name));
      for (const w of workers) assert.ok(names.has(`mms-worker-${w.pid}`), `worker ${w.pid} is not a client of pgbouncer: ${[...names].join(', ')}`);
      const stats = (await bouncer.show<{ database: string; total_xact_count: string }>('STATS')).find((s) => s.database === database);
      assert.ok(Number(stats?.total_xact_count) > 0, 'pgbouncer counted no transaction for the database');
      assert.ok(mostServers >= 1 && mostServers <= POOL, `PostgreSQL had ${mostServers} connections to the database; pgbouncer's pool holds ${POOL}`);

      for (const w of workers) {
        const exit = await stopWorker(w, 'SIGTERM');
        assert.deepEqual(exit, { code: 0, signal: null }, `worker ${w.pid} did not stop cleanly on SIGTERM:\n${w.output().slice(-4000)}`);
      }
      const rows = await db.kysely.selectFrom('migration_requests').select(['id', 'total_meeting', 'invites_update', 'failed_meeting']).where('id', 'in', requests).execute();
      for (const r of rows) {
        assert.deepEqual([r.total_meeting, r.invites_update, r.failed_meeting].map(Number), [MEETINGS_PER_ORGANIZER, MEETINGS_PER_ORGANIZER, 0], `request ${r.id}: TotalMeeting, InvitesUpdate, FailedMeeting`);
      }
      const attempts = await db.kysely.selectFrom('migration_attempts').select(['correlation_id', 'worker_id', 'outcome']).where('correlation_id', 'in', requests).execute();
      assert.deepEqual([...new Set(attempts.map((a) => a.outcome))], ['Succeeded'], `attempts: ${JSON.stringify(attempts)}`);
      assert.equal(attempts.length, ORGANIZERS, 'one attempt per request');
      const byWorker = ids.map((id) => attempts.filter((a) => a.worker_id === id).length);
      say(`${ORGANIZERS} requests by 2 workers (${byWorker.join(' + ')}) and the test's own pool of 4, through ${mostServers} PostgreSQL connections at most (pool ${POOL}); ${clients.filter((c) => c.database === database).length} pgbouncer clients at the end`);
    } finally {
      await killAllWorkers();
      await db?.close().catch(() => undefined);
      await bouncer?.stop();
      await admin((c) => c.query(`drop database if exists ${database} with (force)`));
    }
  });
});
