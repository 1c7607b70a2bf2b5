// PostgreSQL connections lost under running `mms serve` workers (issue 7 §1), tested without stopping the shared
// server:
//
// - Chaos: two real worker processes migrate two organizers' meetings, round after round, while their database
//   connections are terminated at random moments (`pg_terminate_backend` on the backends whose application_name
//   is the worker's, `mms-worker-<pid>`). The workers never exit, every round's requests Succeed, and the
//   exactly-once checks of test/crash.test.ts hold (each meeting and attendee copy has the new block exactly once
//   and was written once per round, each attendee one notification per changed meeting, one ledger row each). The
//   lease is the 60 s default, so a worker that waited for its lease to expire would show as a recovery of a minute;
//   the recovery time (connection killed -> that worker's next committed batch) is measured and printed.
// - Outage: a worker reaches the database through a TCP relay owned by the test. Started while the relay refuses
//   connections, `mms serve` says once that it waits and starts when the database is reachable; mid-migration the
//   relay drops every connection and refuses new ones: the worker says once that the connection is lost, keeps
//   retrying, says once that it is back, and resumes its request at once.
//
// Moments follow the workers' own log lines (the per-batch `migration progress` lines at debug level); waits fail
// when a worker exits or writes nothing for MMS_CHAOS_STALL_MS (60 s), never on a wall-clock budget. The random
// choices come from a printed seed: MMS_CHAOS_SEED=<n> replays them. MMS_CHAOS_ROUNDS sets the rounds (20).
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PG_URL, TEST_DATABASES } from './helpers/databases.js';
import { buildWorld, descriptionOf, digitRuns, personalOf, type StoredCopy, type World } from './helpers/world.js';
import { sleep, startWorker, stopWorker, type LogEvent, type WorkerProcess, type WorkerSettings } from './helpers/worker-process.js';
import { setDialInUser } from '../src/directory/index.js';
import type { Db } from '../src/store/index.js';
import { prng } from '../src/demo/prng.js';

const GIVEN_SEED = process.env.MMS_CHAOS_SEED;
const ROUNDS = Number(process.env.MMS_CHAOS_ROUNDS ?? 20);
const STALL_MS = Number(process.env.MMS_CHAOS_STALL_MS ?? 60_000);
const MEETINGS = 18;
const INTERNAL = 3;
const EXTERNAL = 3;
// The default lease: recovering must not depend on it running out.
const WORKER: Omit<WorkerSettings, 'url'> = { leaseMs: 60_000, pollMs: 50, batchSize: 3, logLevel: 'debug' };

const pgHalf = TEST_DATABASES.find((t) => t.name === 'postgres');
if (!pgHalf) throw new Error('pg-chaos: no postgres half in TEST_DATABASES');

const key = (upn: string, uid: string) => `${upn}\u0000${uid}`;

/** Ends every backend of a worker process (its application_name); returns how many there were. */
async function terminateBackends(admin: pg.Client, w: WorkerProcess): Promise<number> {
  const r = await admin.query<{ ok: boolean }>('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1', [`mms-worker-${w.pid}`]);
  return r.rows.filter((x) => x.ok).length;
}

async function requestState(db: Db, id: string) {
  return db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Fails when a worker exited; when none of them wrote anything for STALL_MS, they are stuck. */
function assertAlive(workers: readonly WorkerProcess[], since: number): void {
  for (const w of workers) assert.ok(w.alive, `worker ${w.pid} exited:\n${w.output().slice(-4000)}`);
  const last = Math.max(since, ...workers.map((w) => w.logs.at(-1)?.at ?? 0));
  assert.ok(performance.now() - last < STALL_MS, `no worker wrote anything for ${STALL_MS} ms: stuck\n${workers.map((w) => w.output().slice(-2000)).join('\n---\n')}`);
}

/** Polls the request rows until every one has ended, while the workers live and write. */
async function untilEnded(db: Db, ids: readonly string[], workers: readonly WorkerProcess[]): Promise<void> {
  const since = performance.now();
  for (;;) {
    const rows = await Promise.all(ids.map((id) => requestState(db, id)));
    if (rows.every((r) => r.state === 'Succeeded' || r.state === 'Failed')) {
      for (const r of rows) assert.equal(r.state, 'Succeeded', `request ${r.id}: ${r.last_message}`);
      return;
    }
    assertAlive(workers, since);
    await sleep(50);
  }
}

/**
 * The exactly-once checks of test/crash.test.ts for one organizer's request: counts, every copy with the new
 * conference ID exactly once and written exactly once more than `before`, attendees' own properties kept, one
 * Updated ledger row and one notification per attendee per meeting.
 */
async function assertExactlyOnce(world: World, organizer: string, correlationId: string, newId: string, before: Map<string, StoredCopy>, at: string): Promise<void> {
  const db = world.db;
  const r = await requestState(db, correlationId);
  assert.deepEqual([r.total_meeting, r.invites_update, r.failed_meeting, r.skipped_meeting].map(Number), [MEETINGS, MEETINGS, 0, 0], `${at}: TotalMeeting, InvitesUpdate, FailedMeeting, SkippedMeeting (${r.last_message})`);
  const now = await world.allCopies();
  const ledger = await db.kysely.selectFrom('migration_meetings').select(['uid', 'action', 'attendees_notified']).where('correlation_id', '=', correlationId).execute();
  const outbox = await db.kysely.selectFrom('outbox').select(['uid', 'recipient']).where('correlation_id', '=', correlationId).execute();
  for (const m of world.meetings.filter((x) => x.organizer === organizer)) {
    for (const mailbox of [m.organizer, ...m.internal]) {
      const copy = now.get(key(mailbox, m.uid));
      const was = before.get(key(mailbox, m.uid));
      assert.ok(copy && was, `${at}: ${mailbox}'s copy of ${m.uid} is missing`);
      assert.equal(digitRuns(descriptionOf(copy.ics), newId), 1, `${at}: ${mailbox}'s copy of ${m.uid} has conference ID ${newId} ${digitRuns(descriptionOf(copy.ics), newId)} times`);
      assert.equal(copy.version, was.version + 1, `${at}: ${mailbox}'s copy of ${m.uid} was written ${copy.version - was.version} times`);
      if (mailbox !== m.organizer) assert.deepEqual(personalOf(copy.ics, mailbox), m.personal.get(mailbox), `${at}: ${mailbox}'s own response, reminder and category`);
    }
    assert.deepEqual(ledger.filter((x) => x.uid === m.uid).map((x) => [x.action, Number(x.attendees_notified)]), [['Updated', INTERNAL + EXTERNAL]], `${at}: ledger rows of ${m.uid}`);
    assert.deepEqual(outbox.filter((x) => x.uid === m.uid).map((x) => x.recipient).sort(), [...m.internal, ...m.external].sort(), `${at}: one notification per attendee of ${m.uid}`);
  }
}

/**
 * The first log line that `accept` takes, from whichever of `workers` writes it first (from log index `from[i]` of
 * worker i, or from now); undefined when the requests `ids` all end first.
 */
async function firstLine(db: Db, workers: readonly WorkerProcess[], ids: readonly string[], accept: (rec: LogEvent['rec']) => boolean, from?: readonly number[]): Promise<{ w: WorkerProcess; ev: LogEvent } | undefined> {
  const stop = new AbortController();
  const ended = (async () => {
    while (!stop.signal.aborted) {
      const rows = await Promise.all(ids.map((id) => requestState(db, id)));
      if (rows.every((r) => r.state !== 'Pending' && r.state !== 'InProgress')) return undefined;
      await sleep(50);
    }
    return undefined;
  })();
  const waits = workers.map((w, i) => w.waitForLog('a batch', accept, { stallMs: STALL_MS, signal: stop.signal, from: from?.[i] })
    .then((ev) => ({ w, ev })));
  for (const p of waits) p.catch(() => undefined);
  try {
    // A worker that has nothing to do writes nothing: only all of them being silent is a stall.
    return await Promise.race([ended, Promise.any(waits)]);
  } catch (err) {
    throw err instanceof AggregateError ? err.errors[0] : err;
  } finally {
    stop.abort(new Error('settled'));
    await ended;
  }
}

/** The lines a worker wrote about its database connection, in order: 'lost' and 'back'. */
function connectionLines(w: WorkerProcess): string[] {
  return w.logs.flatMap((e) => (e.rec.msg === 'database connection lost; reconnecting with backoff' ? ['lost'] : e.rec.msg === 'database connection is back' ? ['back'] : []));
}

interface Relay {
  /** The database URL with the relay's port. */
  readonly url: string;
  /** Connections refused (accepted and dropped at once) while the relay was down. */
  readonly refused: number;
  /** Up: connections pass to the database. Down: every open one is dropped and new ones are refused. */
  setUp(up: boolean): void;
  /** Resolves once `n` connections were refused; fails when the worker exits or tries nothing for STALL_MS. */
  refusedAtLeast(n: number, w: WorkerProcess): Promise<void>;
  close(): Promise<void>;
}

/** A TCP relay in front of the database, down at first: the test's own database outage, the server untouched. */
async function startRelay(dbUrl: string): Promise<Relay> {
  const target = new URL(dbUrl);
  const host = target.hostname;
  const port = Number(target.port || 5432);
  let up = false;
  let refused = 0;
  let lastAttempt = performance.now();
  const open = new Set<net.Socket>();
  const server = net.createServer((c) => {
    lastAttempt = performance.now();
    if (!up) {
      refused++;
      c.destroy();
      return;
    }
    const s = net.connect(port, host);
    open.add(c);
    open.add(s);
    const end = () => {
      c.destroy();
      s.destroy();
      open.delete(c);
      open.delete(s);
    };
    for (const x of [c, s]) x.on('error', end).on('close', end);
    c.pipe(s);
    s.pipe(c);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relayed = new URL(dbUrl);
  relayed.hostname = '127.0.0.1';
  relayed.port = String((server.address() as net.AddressInfo).port);
  return {
    url: relayed.toString(),
    get refused() {
      return refused;
    },
    setUp(v) {
      up = v;
      if (!v) for (const x of open) x.destroy();
    },
    async refusedAtLeast(n, w) {
      while (refused < n) {
        assert.ok(w.alive, `worker ${w.pid} exited while the database was down:\n${w.output().slice(-4000)}`);
        assert.ok(performance.now() - lastAttempt < STALL_MS, `worker ${w.pid} stopped trying to reach the database (${refused} attempts)`);
        await sleep(20);
      }
    },
    close() {
      for (const x of open) x.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe('postgres: database connections lost under running workers', { skip: pgHalf.skip }, () => {
  it('keeps the workers running, resumes each request at once, and leaves every meeting updated and announced exactly once', async (tc) => {
    const seed = GIVEN_SEED !== undefined ? Number(GIVEN_SEED) >>> 0 : randomInt(2 ** 32);
    const random = prng(seed).next;
    const say = (line: string) => tc.diagnostic(line);
    say(`postgres chaos seed ${seed} (MMS_CHAOS_SEED=${seed} replays the choices), ${ROUNDS} rounds, 2 workers, 2 organizers x ${MEETINGS} meetings, batches of ${WORKER.batchSize}, lease ${WORKER.leaseMs} ms`);
    const started = Date.now();
    const { db, url, drop } = await pgHalf.fresh();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const workers: WorkerProcess[] = [];
    let round = 0;
    try {
      const world = await buildWorld(db, { organizers: 2, meetingsPerOrganizer: MEETINGS, internalPerMeeting: INTERNAL, externalPerMeeting: EXTERNAL, internalPool: 6, personalCopies: true });
      for (let i = 0; i < 2; i++) workers.push(startWorker({ url, ...WORKER }));
      await Promise.all(workers.map((w) => w.ready));
      const recoveries: number[] = [];
      let kills = 0;
      let backends = 0;
      let batchMs = 30;
      for (round = 1; round <= ROUNDS; round++) {
        const before = await world.allCopies();
        const changes = [];
        for (const o of world.organizers) {
          const c = await setDialInUser(world.ctx, world.tenant.id, o, { resetConferenceId: true });
          assert.ok(c.correlationId, `round ${round}: no migration queued for ${o}`);
          changes.push({ organizer: o, correlationId: c.correlationId, newId: c.user.conferenceId });
        }
        const ids = changes.map((c) => c.correlationId);
        const isOurs = (e: LogEvent) => typeof e.rec.correlationId === 'string' && ids.includes(e.rec.correlationId);
        // One or two kills per round, each after a batch committed mid-migration (whichever worker commits one
        // first) and a random part of a batch's time later: inside the next batch's transaction or between
        // batches. Now and then both workers lose their connections at once.
        const planned = 1 + Math.floor(random() * 2);
        for (let k = 0; k < planned; k++) {
          const fraction = random();
          const both = random() < 0.25;
          const hit = await firstLine(db, workers, ids, (rec) => rec.msg === 'migration progress' && ids.includes(rec.correlationId ?? '') && Number(rec.invitesUpdate) < MEETINGS - WORKER.batchSize);
          if (!hit) break; // the round's work ended first
          const { w, ev } = hit;
          const prev = w.logs.slice(0, ev.index).reverse().find((e) => isOurs(e) && e.rec.msg === 'migration progress');
          if (prev) batchMs = Math.max(5, ev.at - prev.at);
          await sleep(Math.round(fraction * batchMs));
          for (const target of both ? workers : [w]) {
            const mark = target.logs.length;
            const killedAt = performance.now();
            const n = await terminateBackends(admin, target);
            if (!n) continue;
            kills++;
            backends += n;
            // Recovery: the killed worker's next committed batch (or end of its request) after the kill. None when
            // the worker had already finished its work (it raced ahead) and was idle: then the round's requests
            // end without it, which they cannot while it still holds one of them.
            const next = await firstLine(db, [target], ids, (rec) => ids.includes(rec.correlationId ?? '') && (rec.msg === 'migration progress' || rec.msg === 'migration finished'), [mark]);
            if (next) recoveries.push(next.ev.at - killedAt);
          }
        }
        await untilEnded(db, ids, workers);
        for (const c of changes) await assertExactlyOnce(world, c.organizer, c.correlationId, c.newId, before, `round ${round}, ${c.organizer}`);
        const all = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(all.n), round * 2 * MEETINGS * (INTERNAL + EXTERNAL), `round ${round}: outbox rows of all rounds so far`);
      }
      for (const w of workers) {
        assert.ok(w.alive, `worker ${w.pid} exited`);
        const lines = connectionLines(w);
        // Each loss is said once and each return once, alternating.
        lines.forEach((l, i) => assert.equal(l, i % 2 === 0 ? 'lost' : 'back', `worker ${w.pid}: connection lines ${lines.join(' ')}`));
        assert.equal(lines.at(-1) ?? 'back', 'back', `worker ${w.pid}: connection lines ${lines.join(' ')}`);
        // A lost connection is not a failed attempt: nothing was counted or put off with backoff.
        const failures = w.logs.filter((e) => e.rec.msg === 'migration attempt failed; will retry' || e.rec.msg === 'migration failed');
        assert.deepEqual(failures.map((e) => e.rec.err), [], `worker ${w.pid}: failed attempts`);
      }
      assert.ok(kills >= ROUNDS, `only ${kills} kills landed in ${ROUNDS} rounds`);
      assert.ok(recoveries.length >= ROUNDS / 2, `only ${recoveries.length} recoveries measured`);
      // Kills that caught a worker inside a request (it says which request it resumes when the connection is back):
      // the point of the test, so a run where they mostly hit idle workers fails instead of passing quietly.
      const resumed = workers.flatMap((w) => w.logs.filter((e) => e.rec.msg === 'database connection is back' && typeof e.rec.resuming === 'string')).length;
      assert.ok(resumed >= ROUNDS / 4, `only ${resumed} kills caught a worker inside a request`);
      const worst = Math.max(...recoveries);
      say(`postgres chaos: ${ROUNDS} rounds, ${kills} kills (${backends} backends terminated), ${recoveries.length} recoveries measured: median ${Math.round(median(recoveries))} ms, max ${Math.round(worst)} ms; ${resumed} requests resumed after a kill inside them, lost/back line pairs ${workers.map((w) => connectionLines(w).length / 2).join(' + ')}; ${Math.round((Date.now() - started) / 1000)} s`);
      // Waiting for the lease would take at least its 60 s.
      assert.ok(worst < WORKER.leaseMs / 2, `a recovery took ${Math.round(worst)} ms: the worker waited for its lease instead of resuming`);
      for (const w of workers) {
        const exit = await stopWorker(w, 'SIGTERM', STALL_MS);
        assert.deepEqual(exit, { code: 0, signal: null }, `worker ${w.pid} did not stop cleanly:\n${w.output().slice(-4000)}`);
      }
    } catch (err) {
      (err as Error).message = `postgres chaos test failed in round ${round} (seed ${seed}; MMS_CHAOS_SEED=${seed} replays): ${(err as Error).message}`;
      throw err;
    } finally {
      await Promise.all(workers.filter((w) => w.alive).map((w) => stopWorker(w, 'SIGKILL')));
      await admin.end();
      await drop();
    }
  });

  it('waits at start for a database that is not reachable, and after an outage mid-migration says so once each way and resumes its request at once', async (tc) => {
    const say = (line: string) => tc.diagnostic(line);
    const { db, url, drop } = await pgHalf.fresh();
    const r = await startRelay(url);
    const workers: WorkerProcess[] = [];
    try {
      const world = await buildWorld(db, { organizers: 1, meetingsPerOrganizer: MEETINGS, internalPerMeeting: INTERNAL, externalPerMeeting: EXTERNAL, internalPool: 6, personalCopies: true });
      const organizer = world.organizers[0] as string;

      // Started while the database is unreachable: one line, retries, and it runs once the database answers.
      const w = startWorker({ url: r.url, ...WORKER });
      workers.push(w);
      await w.waitForLog('the wait for the database', (rec) => rec.msg === 'database not reachable; waiting for it (retrying with backoff)', { stallMs: STALL_MS, from: 0 });
      await r.refusedAtLeast(3, w);
      assert.equal(w.logs.filter((e) => e.rec.msg === 'database not reachable; waiting for it (retrying with backoff)').length, 1, `one waiting line:\n${w.output()}`);
      assert.ok(w.alive, 'mms serve exited while the database was down');
      r.setUp(true);
      const upAt = performance.now();
      await w.ready;
      say(`postgres outage: mms serve started ${Math.round(performance.now() - upAt)} ms after the database became reachable (${r.refused} connection attempts refused before)`);

      // Mid-migration the database goes away (every connection dropped, new ones refused) and comes back.
      const before = await world.allCopies();
      const change = await setDialInUser(world.ctx, world.tenant.id, organizer, { resetConferenceId: true });
      const correlationId = change.correlationId;
      assert.ok(correlationId, 'no migration queued');
      await w.waitForLog('a batch mid-migration', (rec) => rec.msg === 'migration progress' && rec.correlationId === correlationId && Number(rec.invitesUpdate) >= WORKER.batchSize && Number(rec.invitesUpdate) < MEETINGS - WORKER.batchSize, { stallMs: STALL_MS, from: 0 });
      const refusedBefore = r.refused;
      r.setUp(false);
      await w.waitForLog('the lost connection', (rec) => rec.msg === 'database connection lost; reconnecting with backoff', { stallMs: STALL_MS, from: 0 });
      await r.refusedAtLeast(refusedBefore + 3, w);
      const mark = w.logs.length;
      r.setUp(true);
      const backAt = performance.now();
      await w.waitForLog('the connection back', (rec) => rec.msg === 'database connection is back', { stallMs: STALL_MS, from: mark });
      const resumed = await w.waitForLog('the next batch', (rec) => rec.correlationId === correlationId && (rec.msg === 'migration progress' || rec.msg === 'migration finished'), { stallMs: STALL_MS, from: mark });
      await w.waitForLog('the end of the request', (rec) => rec.correlationId === correlationId && (rec.msg === 'migration finished' || rec.msg === 'migration failed'), { stallMs: STALL_MS, from: 0 });
      assert.deepEqual(connectionLines(w), ['lost', 'back'], `one line when the database went away, one when it came back:\n${w.output()}`);
      const retries = w.logs.filter((e) => e.rec.msg === 'migration attempt failed; will retry' || e.rec.msg === 'migration failed');
      assert.deepEqual(retries.map((e) => e.rec.err), [], 'the lost connection counted as a failed attempt');
      await assertExactlyOnce(world, organizer, correlationId, change.user.conferenceId, before, 'after the outage');
      const recovery = resumed.at - backAt;
      say(`postgres outage: ${r.refused - refusedBefore} reconnection attempts refused while down; database back -> next batch committed in ${Math.round(recovery)} ms (lease ${WORKER.leaseMs} ms)`);
      assert.ok(recovery < WORKER.leaseMs / 2, `resuming took ${Math.round(recovery)} ms: the worker waited for its lease`);
      const exit = await stopWorker(w, 'SIGTERM', STALL_MS);
      assert.deepEqual(exit, { code: 0, signal: null }, `the worker did not stop cleanly:\n${w.output().slice(-4000)}`);
    } finally {
      await Promise.all(workers.filter((w) => w.alive).map((w) => stopWorker(w, 'SIGKILL')));
      await r.close();
      await drop();
    }
  });
});
