// Scale-out on PostgreSQL: two `mms serve` processes on one database share a tenant-wide change. Unassigning the
// bridge number every organizer's meetings show queues one request per organizer; the two workers claim them with
// FOR UPDATE SKIP LOCKED and leases. They must never hold the same request at once (each worker's attempts are
// recorded in migration_attempts with start and end), and together they must finish everything: every meeting
// and every internal attendee's copy carries the new number, written exactly once, with one notification per
// attendee per meeting. SQLite is skipped: it runs one worker process (DESIGN.md, "Chosen parts").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { buildWorld, currentDirectory, descriptionOf, digitRuns, occurrences, unfold, WORLD_NUMBERS } from './helpers/world.js';
import { killAllWorkers, startWorker, stopWorker, waitFor, type WorkerSettings } from './helpers/worker-process.js';
import { unregisterServiceNumber } from '../src/directory/index.js';
import { blockInputFor } from '../src/meetings/index.js';
import { DELIMITER, renderBlock } from '../src/domain/meeting-block/index.js';
import { findUser } from '../src/store/directory-repo.js';

const ORGANIZERS = 30;
const MEETINGS_PER_ORGANIZER = 10;
const INTERNAL = 2;
const EXTERNAL = 2;
const WORKER: Omit<WorkerSettings, 'url'> = { leaseMs: 5000, pollMs: 50, batchSize: 5 };
/** The unassigned number as a block shows it (formatE164), to be sure no copy still shows it. */
const OLD_NUMBER_SHOWN = '+1 425-555-0100';

const key = (upn: string, uid: string) => `${upn}\u0000${uid}`;

for (const t of TEST_DATABASES) {
  const skip = t.name === 'sqlite'
    ? 'SQLite runs one worker process (DESIGN.md, "Chosen parts"); running several is what PostgreSQL is for'
    : t.skip;
  describe(`${t.name}: two worker processes`, { skip }, () => {
    it('never work on the same request at once, and together finish a tenant-wide change', { timeout: 150_000 }, async (tc) => {
      const say = (line: string) => tc.diagnostic(line);
      const started = Date.now();
      const { db, url, drop } = await t.fresh();
      try {
        const world = await buildWorld(db, {
          organizers: ORGANIZERS,
          meetingsPerOrganizer: MEETINGS_PER_ORGANIZER,
          internalPerMeeting: INTERNAL,
          externalPerMeeting: EXTERNAL,
          internalPool: 'organizers',
        });
        const total = ORGANIZERS * MEETINGS_PER_ORGANIZER;
        say(`world of ${ORGANIZERS} organizers and ${total} meetings built in ${Date.now() - started} ms`);

        // Both workers are running (idle, polling) before the change, so that both can take part from the start.
        const workers = [startWorker({ url, ...WORKER }), startWorker({ url, ...WORKER })];
        const ids = await Promise.all(workers.map((w) => w.ready));
        assert.notEqual(ids[0], ids[1], 'the two workers have the same worker id');

        const { outcomes } = await unregisterServiceNumber(world.ctx, world.tenant.id, { number: WORLD_NUMBERS.toll, bridgeName: world.bridge.name, removeDefaultServiceNumber: true });
        const requests = [...new Set(outcomes.map((o) => o.correlationId).filter((c): c is string => c !== null))];
        assert.equal(requests.length, ORGANIZERS, `unassigning the number queued ${requests.length} requests for ${ORGANIZERS} organizers`);
        const changedAt = Date.now();

        await waitFor(`all ${ORGANIZERS} requests to succeed`, async () => {
          for (const w of workers) if (!w.alive) throw new Error(`worker ${w.pid} died:\n${w.output().slice(-4000)}`);
          const rows = await db.kysely.selectFrom('migration_requests').select(['id', 'state', 'last_message']).where('id', 'in', requests).execute();
          const bad = rows.find((r) => r.state === 'Failed' || (r.state === 'Pending' && r.last_message));
          if (bad) throw new Error(`request ${bad.id} is ${bad.state}: ${bad.last_message}`);
          return rows.every((r) => r.state === 'Succeeded');
        }, { timeoutMs: 90_000, intervalMs: 100 });
        const tookMs = Date.now() - changedAt;

        for (const w of workers) {
          const exit = await stopWorker(w, 'SIGTERM');
          assert.deepEqual(exit, { code: 0, signal: null }, `worker ${w.pid} did not stop cleanly on SIGTERM:\n${w.output().slice(-4000)}`);
        }

        // No two attempts of different workers on the same request overlap in time.
        const attempts = await db.kysely.selectFrom('migration_attempts').selectAll().where('correlation_id', 'in', requests).orderBy('started_at').orderBy('id').execute();
        for (const id of requests) {
          const mine = attempts.filter((a) => a.correlation_id === id);
          assert.ok(mine.length >= 1, `request ${id} has no attempt`);
          for (const a of mine) assert.ok(a.ended_at !== null, `attempt ${a.id} of request ${id} by ${a.worker_id} never ended`);
          for (const [i, a] of mine.entries()) {
            for (const b of mine.slice(i + 1)) {
              if (a.worker_id === b.worker_id) continue;
              const overlap = Number(a.started_at) < Number(b.ended_at) && Number(b.started_at) < Number(a.ended_at);
              assert.ok(!overlap, `request ${id}: ${a.worker_id} [${a.started_at}, ${a.ended_at}] and ${b.worker_id} [${b.started_at}, ${b.ended_at}] worked on it at once`);
            }
          }
          assert.deepEqual(mine.map((a) => a.outcome), ['Succeeded'], `request ${id}: attempts ${JSON.stringify(mine.map((a) => [a.worker_id, a.outcome]))}`);
        }
        const byWorker = new Map<string, number>();
        for (const a of attempts) byWorker.set(a.worker_id, (byWorker.get(a.worker_id) ?? 0) + 1);
        for (const id of ids) assert.ok((byWorker.get(id) ?? 0) > 0, `worker ${id} did no request: ${JSON.stringify([...byWorker])}`);
        assert.deepEqual([...byWorker.keys()].sort(), [...ids].sort(), 'attempts by a worker that was not started here');

        // Every request finished its organizer's meetings: one Updated ledger row per meeting and one notification per
        // attendee per meeting (rows counted, not only guarded by the unique index).
        const requestRows = await db.kysely.selectFrom('migration_requests').selectAll().where('id', 'in', requests).execute();
        for (const r of requestRows) {
          assert.deepEqual(
            [r.total_meeting, r.invites_update, r.failed_meeting, r.skipped_meeting].map(Number),
            [MEETINGS_PER_ORGANIZER, MEETINGS_PER_ORGANIZER, 0, 0],
            `request ${r.id}: TotalMeeting, InvitesUpdate, FailedMeeting, SkippedMeeting (${r.last_message})`,
          );
        }
        const ledger = await db.kysely.selectFrom('migration_meetings').select(['correlation_id', 'uid', 'action']).where('correlation_id', 'in', requests).execute();
        assert.equal(ledger.length, total, 'ledger rows');
        assert.ok(ledger.every((r) => r.action === 'Updated'), `ledger actions: ${[...new Set(ledger.map((r) => r.action))].join(', ')}`);
        const outbox = await db.kysely.selectFrom('outbox').select(['correlation_id', 'uid', 'recipient', 'organizer_id']).execute();
        assert.equal(outbox.length, total * (INTERNAL + EXTERNAL), 'outbox rows');
        const requestOf = new Map(requestRows.map((r) => [r.user_id, r.id]));
        const sent = new Map<string, number>();
        for (const o of outbox) {
          const k = `${o.correlation_id}\u0000${o.uid}\u0000${o.recipient}`;
          sent.set(k, (sent.get(k) ?? 0) + 1);
        }

        const { tenant, bridges } = await currentDirectory(world);
        const copies = await world.allCopies();
        for (const m of world.meetings) {
          const organizer = await findUser(db.kysely, world.tenant.id, m.organizer);
          assert.ok(organizer);
          const correlationId = requestOf.get(organizer.id);
          assert.ok(correlationId, `no request for ${m.organizer}`);
          for (const a of [...m.internal, ...m.external]) {
            assert.equal(sent.get(`${correlationId}\u0000${m.uid}\u0000${a}`), 1, `${a} got ${sent.get(`${correlationId}\u0000${m.uid}\u0000${a}`) ?? 0} notifications of ${m.uid}`);
          }
          const block: string = renderBlock(blockInputFor(organizer, tenant, bridges, m.meetingId)).text;
          assert.ok(block.includes('+1 425-555-0101'), `the expected block does not show the bridge's new default number:\n${block}`);
          for (const mailbox of [m.organizer, ...m.internal]) {
            const at = `${mailbox}'s copy of ${m.uid} (organized by ${m.organizer})`;
            const copy = copies.get(key(mailbox, m.uid));
            assert.ok(copy, `${at} is missing`);
            assert.equal(copy.version, 2, `${at} was written ${copy.version - 1} times since it was scheduled`);
            const description = descriptionOf(copy.ics);
            assert.equal(occurrences(description, block), 1, `${at}: the new block is there ${occurrences(description, block)} times:\n${description}`);
            assert.equal(occurrences(description, DELIMITER), 2, `${at}: one delimiter pair expected:\n${description}`);
            assert.equal(occurrences(description, OLD_NUMBER_SHOWN), 0, `${at} still shows ${OLD_NUMBER_SHOWN}`);
            assert.equal(digitRuns(unfold(copy.ics), WORLD_NUMBERS.toll.slice(1)), 0, `${at} still holds ${WORLD_NUMBERS.toll}`);
          }
        }
        say(`${ORGANIZERS} requests finished in ${tookMs} ms; requests per worker: ${ids.map((id) => `${id} ${byWorker.get(id) ?? 0}`).join(', ')}`);
      } finally {
        await killAllWorkers();
        await drop();
      }
    });
  });
}
