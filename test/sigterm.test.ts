// SIGTERM: a worker stops claiming, lets the batch in hand commit, gives its request back, and exits 0 — promptly,
// also on SQLite, whose driver answers synchronously (the worker must hand the event loop a turn between batches
// for the signal to be seen at all).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { buildWorld, WORLD_NUMBERS } from './helpers/world.js';
import { killAllWorkers, startWorker, stopWorker, waitFor } from './helpers/worker-process.js';
import { unregisterServiceNumber } from '../src/directory/index.js';
import { MigrationWorker } from '../src/migration/index.js';

const ORGANIZERS = 12;
const MEETINGS = 25;

for (const t of TEST_DATABASES) {
  describe(`${t.name}: SIGTERM`, { skip: t.skip }, () => {
    it('stops a busy worker within a second or two, with its request given back and nothing half done', { timeout: 120_000 }, async () => {
      const { db, url, drop } = await t.fresh();
      try {
        const world = await buildWorld(db, { organizers: ORGANIZERS, meetingsPerOrganizer: MEETINGS, internalPerMeeting: 2, externalPerMeeting: 2, internalPool: 'organizers' });
        const worker = startWorker({ url, leaseMs: 60_000, pollMs: 50, batchSize: 2 });
        await worker.ready;
        const { outcomes } = await unregisterServiceNumber(world.ctx, world.tenant.id, { number: WORLD_NUMBERS.toll, bridgeName: world.bridge.name, removeDefaultServiceNumber: true });
        const requests = outcomes.flatMap((o) => (o.correlationId ? [o.correlationId] : []));
        assert.equal(requests.length, ORGANIZERS);
        // Wait until it is in the middle of the work: some meetings done, most not.
        await waitFor('the worker to be mid-way', async () => {
          const n = await db.kysely.selectFrom('migration_meetings').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
          return Number(n.n) >= 4;
        }, { timeoutMs: 60_000, intervalMs: 20 });
        const signalled = Date.now();
        const exit = await stopWorker(worker, 'SIGTERM', 15_000);
        const tookMs = Date.now() - signalled;
        assert.deepEqual(exit, { code: 0, signal: null }, worker.output().slice(-2000));
        assert.ok(tookMs < 5_000, `the worker took ${tookMs} ms to stop after SIGTERM`);

        const rows = await db.kysely.selectFrom('migration_requests').select(['id', 'state', 'lease_owner']).where('id', 'in', requests).execute();
        assert.deepEqual(rows.filter((r) => r.state === 'InProgress' || r.lease_owner !== null), [], 'a request stayed claimed');
        const open = rows.filter((r) => r.state === 'Pending').length;
        assert.ok(open > 0, 'the worker finished everything before the signal: the test proves nothing');

        // A new worker finishes the rest; every meeting is updated once and announced once per attendee.
        await new MigrationWorker({ db, logger: { info() {}, warn() {}, error() {} } }).drain();
        const states = await db.kysely.selectFrom('migration_requests').select('state').where('id', 'in', requests).execute();
        assert.deepEqual([...new Set(states.map((s) => s.state))], ['Succeeded']);
        const ledger = await db.kysely.selectFrom('migration_meetings').select(['uid', 'action']).where('correlation_id', 'in', requests).execute();
        assert.equal(ledger.length, ORGANIZERS * MEETINGS);
        assert.ok(ledger.every((r) => r.action === 'Updated'));
        const outbox = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('correlation_id', 'in', requests).executeTakeFirstOrThrow();
        assert.equal(Number(outbox.n), ORGANIZERS * MEETINGS * 4);
      } finally {
        await killAllWorkers();
        await drop();
      }
    });
  });
}
