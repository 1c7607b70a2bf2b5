// MMS_DATABASE_LISTEN_URL: behind pgbouncer in transaction mode, which passes no notifications on, the worker's
// LISTEN connection goes directly to PostgreSQL while its pool goes through the pooler, and a trigger from another
// process still wakes it at once. The worker polls every 10 minutes here: a worker that did not hear the NOTIFY
// would go silent and the test fails on the stall (checked by removing the setting: the claim never comes).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { unregisterServiceNumber } from '../src/directory/index.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { PG_URL, TEST_DATABASES } from './helpers/databases.js';
import { PGBOUNCER_SKIP, PgBouncer } from './helpers/pgbouncer.js';
import { buildWorld, WORLD_NUMBERS } from './helpers/world.js';
import { killAllWorkers, startWorker, stopWorker } from './helpers/worker-process.js';

const TEN_MINUTES = 600_000;
const STALL_MS = 60_000;

describe('MMS_DATABASE_LISTEN_URL: checked at start', () => {
  const load = (env: Record<string, string>) => () => loadConfig(env);
  it('is a PostgreSQL URL beside a PostgreSQL database, else one line that says what to do', () => {
    assert.equal(loadConfig({ MMS_DATABASE_URL: 'postgres://u@pool:6432/mms' }).databaseListenUrl, undefined);
    assert.equal(loadConfig({ MMS_DATABASE_URL: 'postgres://u@pool:6432/mms', MMS_DATABASE_LISTEN_URL: ' postgres://u@db:5432/mms ' }).databaseListenUrl, 'postgres://u@db:5432/mms');
    assert.throws(load({ MMS_DATABASE_URL: 'postgres://u@pool:6432/mms', MMS_DATABASE_LISTEN_URL: 'mysql://u:secret@db/mms' }),
      { message: 'MMS_DATABASE_LISTEN_URL="mysql://u:***@db/mms" is not valid: give a direct connection to the database: postgres://user@db-host:5432/db' });
    assert.throws(load({ MMS_DATABASE_URL: 'data/mms.sqlite', MMS_DATABASE_LISTEN_URL: 'postgres://u@db:5432/mms' }), /MMS_DATABASE_LISTEN_URL="postgres:\/\/u@db:5432\/mms" is not valid: it is for PostgreSQL only \(MMS_DATABASE_URL is SQLite/);
  });
});

const pgHalf = TEST_DATABASES.find((t) => t.name === 'postgres');

describe('postgres through pgbouncer with a direct LISTEN connection', { skip: PGBOUNCER_SKIP ?? pgHalf?.skip }, () => {
  it('a trigger from another process wakes the worker whose pool goes through pgbouncer', { timeout: 150_000 }, async () => {
    // A database of the test's own: pgbouncer passes no `options`, so no schema-per-test here (see pgbouncer.test.ts).
    const database = `mms_pgl_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${database}`);
    let bouncer: PgBouncer | undefined;
    let db: Db | undefined;
    try {
      bouncer = await PgBouncer.start({ upstream: PG_URL, poolSize: 3 });
      const pooled = bouncer.url(database);
      const direct = new URL(PG_URL);
      direct.pathname = `/${database}`;
      db = await openDatabase(pooled, { poolSize: 2, applicationName: 'mms-listen-url-test' });
      const world = await buildWorld(db, { organizers: 2, meetingsPerOrganizer: 2, internalPerMeeting: 1, externalPerMeeting: 1, internalPool: 'organizers' });

      const w = startWorker({ url: pooled, leaseMs: 10_000, pollMs: TEN_MINUTES, batchSize: 10, logLevel: 'debug', env: { MMS_DATABASE_LISTEN_URL: direct.toString() } });
      await w.ready;
      // Its first claim found nothing; from here it sleeps 10 minutes unless a notification wakes it.
      await w.waitForLog('the worker to sleep', (r) => r.msg === 'worker idle', { stallMs: STALL_MS, from: 0 });
      // The listener is on a direct connection to the database, with the worker's name (pgbouncer's server
      // connections carry no client's name), and it proved itself: no fallback warning.
      const listening = await admin.query<{ application_name: string }>("select application_name from pg_stat_activity where datname = $1 and query like 'listen %'", [database]);
      assert.deepEqual(listening.rows.map((r) => r.application_name), [`mms-worker-${w.pid}`]);

      const from = w.logs.length;
      // The trigger's transaction goes through pgbouncer too: its pg_notify is delivered at commit all the same.
      const { outcomes } = await unregisterServiceNumber(world.ctx, world.tenant.id, { number: WORLD_NUMBERS.toll, bridgeName: world.bridge.name, removeDefaultServiceNumber: true });
      const requests = outcomes.map((o) => o.correlationId).filter((c): c is string => c !== null);
      assert.equal(requests.length, 2);
      for (const id of requests) {
        await w.waitForLog(`the end of ${id}`, (r) => r.msg === 'migration finished' && r.correlationId === id, { stallMs: STALL_MS, from });
      }
      const states = await db.kysely.selectFrom('migration_requests').select('state').where('id', 'in', requests).execute();
      assert.deepEqual(states.map((s) => s.state), ['Succeeded', 'Succeeded']);
      assert.equal(w.logs.filter((e) => e.rec.level === 40 && /LISTEN/.test(String(e.rec.msg))).length, 0, w.output().slice(-3000));
      assert.deepEqual(await stopWorker(w, 'SIGTERM'), { code: 0, signal: null });
    } finally {
      await killAllWorkers();
      await db?.close().catch(() => undefined);
      await bouncer?.stop();
      await admin.query(`drop database if exists ${database} with (force)`).catch(() => undefined);
      await admin.end();
    }
  });
});
