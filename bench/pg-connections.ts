// How many PostgreSQL connections N `mms serve` processes use, and whether any of them waits on a lock, during a
// tenant-wide change (docs/SCALING.md §2). Standalone, not part of `npm run bench`:
//
//   MMS_TEST_DATABASE_URL=postgres://… npx tsx bench/pg-connections.ts [workers=1] [organizers=80]
//
// A world of `organizers` × 10 meetings (2 internal, 2 external attendees) in a fresh schema; N workers (the real
// `mms serve`, test/helpers/worker-process.ts) started idle; then Unregister-CsOnlineDialInConferencingServiceNumber,
// and pg_stat_activity sampled every 50 ms by each worker's application_name (`mms-worker-<pid>`) until every request
// ended. Prints one JSON line. Say the load average beside its figures: other processes on the machine skew them.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../src/store/index.js';
import { unregisterServiceNumber } from '../src/directory/index.js';
import { buildWorld, WORLD_NUMBERS } from '../test/helpers/world.js';
import { killAllWorkers, startWorker, stopWorker } from '../test/helpers/worker-process.js';

const PG_URL = process.env.MMS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const workersWanted = Number(process.argv[2] ?? 1);
const organizers = Number(process.argv[3] ?? 80);
const MEETINGS = 10;

const schema = `conn_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`create schema ${schema}`);
const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
const db = await openDatabase(url, { poolSize: 2, applicationName: 'bench-pg-connections' });
try {
  const world = await buildWorld(db, { organizers, meetingsPerOrganizer: MEETINGS, internalPerMeeting: 2, externalPerMeeting: 2, internalPool: 'organizers' });
  const workers = Array.from({ length: workersWanted }, () => startWorker({ url, leaseMs: 30_000, pollMs: 50, batchSize: 50 }));
  await Promise.all(workers.map((w) => w.ready));
  const names = workers.map((w) => `mms-worker-${w.pid}`);
  const sample = async () => (await admin.query<{ application_name: string; state: string | null; wait_event_type: string | null; n: number }>(
    'select application_name, state, wait_event_type, count(*)::int as n from pg_stat_activity where application_name = any($1) group by 1, 2, 3', [names])).rows;
  const idle = (await sample()).reduce((a, r) => a + r.n, 0);
  const loadBefore = os.loadavg()[0]!;
  const started = Date.now();
  const { outcomes } = await unregisterServiceNumber(world.ctx, world.tenant.id, { number: WORLD_NUMBERS.toll, bridgeName: world.bridge.name, removeDefaultServiceNumber: true });
  const ids = [...new Set(outcomes.map((o) => o.correlationId).filter((c): c is string => c !== null))];
  let most = 0;
  let samples = 0;
  let lockWaitSamples = 0;
  const perWorker = new Map<string, number>();
  for (;;) {
    const rows = await sample();
    samples++;
    const by = new Map<string, number>();
    for (const r of rows) by.set(r.application_name, (by.get(r.application_name) ?? 0) + r.n);
    for (const [k, v] of by) perWorker.set(k, Math.max(perWorker.get(k) ?? 0, v));
    most = Math.max(most, [...by.values()].reduce((a, b) => a + b, 0));
    if (rows.some((r) => r.wait_event_type === 'Lock')) lockWaitSamples++;
    const states = await db.kysely.selectFrom('migration_requests').select('state').where('id', 'in', ids).execute();
    if (states.every((r) => r.state === 'Succeeded' || r.state === 'Failed')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const secondsTaken = (Date.now() - started) / 1000;
  console.log(JSON.stringify({
    workers: workersWanted, meetings: organizers * MEETINGS, seconds: secondsTaken, meetingsPerSecond: Math.round((organizers * MEETINGS) / secondsTaken),
    connectionsIdle: idle, connectionsPerWorkerMost: Math.max(...perWorker.values()), connectionsAllMost: most,
    samples, samplesWithALockWait: lockWaitSamples, loadAverage: [loadBefore, os.loadavg()[0]].map((x) => Number(x!.toFixed(1))),
  }));
  for (const w of workers) await stopWorker(w);
} finally {
  await killAllWorkers();
  await db.close();
  await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}
