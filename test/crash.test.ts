// A real `mms serve` process is killed with SIGKILL at random moments while it migrates an organizer's meetings,
// round after round, and restarted until the round's request has Succeeded. Whatever instant the kill lands on,
// every meeting ends up with the new block exactly once and every attendee with exactly one notification per
// changed meeting (DESIGN.md, "Correctness rules": exactly one update notification per changed meeting per
// migration, even if a worker dies at any point). After every kill, with no worker running, the database is also
// checked to be consistent: a meeting is updated (organizer copy and attendees' copies), announced (outbox) and
// recorded (ledger) together, or not at all.
//
// Internal attendees have made their copies their own (a response, a reminder, a category: world.ts
// `personalCopies`), so every kill can land inside the copy-rewrite path, and every check also proves that each
// copy kept its PARTSTAT, VALARM and category and got the new block exactly once.
//
// When to kill is decided on the worker's own events, never on the clock of some machine: the worker logs
// `migration claimed` when it takes the request and (at debug level) `migration progress` after each committed
// batch; a kill is scheduled only after such a line, at a random fraction of the time a batch takes as measured
// from those same lines (in one round in three the first kill comes at once on the line after the worker's first
// committed batch, so that kills land mid-migration however loaded the machine is). Waits have no wall-clock budget
// either: a worker fails the test only if it exits or writes nothing for MMS_CRASH_STALL_MS (120 s by default), i.e.
// when it is stuck, however slow or busy the machine.
//
// The kill choices come from a seeded generator, one seed per database half: a failure names the half, the round
// and the seed, and MMS_CRASH_SEED=<n> MMS_CRASH_ROUNDS=<round> replays those choices (the moments still follow
// the worker's events). MMS_CRASH_ROUNDS=<n> sets how many rounds run (20 by default on each database; on the
// 2-core machine at load 4-5 the file then takes about 80 s, most of it worker start-ups: ~60 of them per database).
import { randomInt } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { assertNewBlockOnce, buildWorld, currentDirectory, descriptionOf, digitRuns, occurrences, personalOf, unfold, type StoredCopy, type World } from './helpers/world.js';
import { sleep, startWorker, stopWorker, type LogRecord, type WorkerProcess, type WorkerSettings } from './helpers/worker-process.js';
import { setDialInUser } from '../src/directory/index.js';
import { blockInputFor } from '../src/meetings/index.js';
import { renderBlock } from '../src/domain/meeting-block/index.js';
import { findUser } from '../src/store/directory-repo.js';
import type { Kysely } from 'kysely';
import type { Database, Db } from '../src/store/index.js';
import { prng } from '../src/demo/prng.js';

const GIVEN_SEED = process.env.MMS_CRASH_SEED;
const ROUNDS = Number(process.env.MMS_CRASH_ROUNDS ?? 20);
const STALL_MS = Number(process.env.MMS_CRASH_STALL_MS ?? 120_000);
const MEETINGS = 40;
const INTERNAL = 3;
const EXTERNAL = 3;
/** Kills per round before a worker is let to finish: 1 to this many. */
const MAX_KILLS_PER_ROUND = 3;
/** Kills that land right after the claim line (while the worker lists and plans), not after a committed batch. */
const SHARE_AT_CLAIM = 0.15;
// A short lease so that a restarted worker reclaims the killed one's request soon (a worker renews it per batch);
// debug logs for the per-batch progress lines the kills are scheduled on. No REST API (MMS_HTTP_ADDRESS=off, a
// setting operators have): nothing here speaks HTTP, and compiling its routes' schemas was half of the CPU of each of
// the ~120 worker starts (0.5 of 1.1 s), which are the bulk of this file's time.
const WORKER: Omit<WorkerSettings, 'url'> = { leaseMs: 1000, pollMs: 50, batchSize: 3, logLevel: 'debug', env: { MMS_HTTP_ADDRESS: 'off' } };
const BATCHES = Math.ceil(MEETINGS / WORKER.batchSize);

interface Kill {
  readonly round: number;
  /** The worker line the kill was scheduled on: `claim`, or the progress line after that many batches. */
  readonly after: string;
  readonly delayMs: number;
  /** Meetings of the round's request already updated when this worker claimed it, and when it was killed. */
  readonly doneAtClaim: number;
  readonly doneAtKill: number;
  readonly state: string;
}

function phaseOf(k: Kill): string {
  if (k.state === 'Succeeded') return 'after the request had Succeeded';
  if (k.doneAtKill === MEETINGS) return 'after the last batch, before the request was finished';
  if (k.doneAtKill === k.doneAtClaim) return 'before this worker committed a batch';
  return 'mid-migration, between or inside batches';
}

async function requestRow(db: Db, id: string) {
  return db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function updatedCount(db: Db, correlationId: string): Promise<number> {
  const r = await db.kysely.selectFrom('migration_meetings').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('correlation_id', '=', correlationId).where('action', '=', 'Updated').executeTakeFirstOrThrow();
  return Number(r.n);
}

const key = (upn: string, uid: string) => `${upn}\u0000${uid}`;

/**
 * With no worker running: every meeting is either fully migrated by `correlationId` (organizer copy and every
 * internal attendee's copy carry `newId` and were written exactly once more than `before`, one Updated ledger
 * row, one outbox row per attendee) or untouched by it (old copies, same versions, no ledger row, no outbox row).
 * Returns how many meetings were migrated.
 */
async function assertAllOrNothing(world: World, correlationId: string, newId: string, before: Map<string, StoredCopy>, when: string): Promise<number> {
  // One snapshot for every read: on PostgreSQL the killed worker's last COMMIT may still land while we look.
  return world.db.kysely.transaction().setIsolationLevel('repeatable read').execute((k) => allOrNothingIn(k, world, correlationId, newId, before, when));
}

async function allOrNothingIn(k: Kysely<Database>, world: World, correlationId: string, newId: string, before: Map<string, StoredCopy>, when: string): Promise<number> {
  const now = await world.allCopies(k);
  const ledger = await k.selectFrom('migration_meetings').select(['uid', 'action', 'attendees_notified'])
    .where('correlation_id', '=', correlationId).execute();
  const outbox = await k.selectFrom('outbox').select(['uid', 'recipient', 'internal', 'message_id'])
    .where('correlation_id', '=', correlationId).execute();
  let migrated = 0;
  for (const m of world.meetings) {
    const at = `${when}: meeting ${m.uid}`;
    const org = now.get(key(m.organizer, m.uid));
    const was = before.get(key(m.organizer, m.uid));
    assert.ok(org && was, `${at}: the organizer copy is missing`);
    const updated = digitRuns(descriptionOf(org.ics), newId) > 0;
    if (updated) migrated++;
    assert.equal(org.version, was.version + (updated ? 1 : 0), `${at}: the organizer copy was written ${org.version - was.version} times (updated: ${updated})`);
    for (const a of m.internal) {
      const copy = now.get(key(a, m.uid));
      const prev = before.get(key(a, m.uid));
      assert.ok(copy && prev, `${at}: ${a}'s copy is missing`);
      assert.equal(digitRuns(descriptionOf(copy.ics), newId) > 0, updated, `${at}: ${a}'s copy ${updated ? 'was not' : 'was'} updated while the organizer copy ${updated ? 'was' : 'was not'}`);
      assert.equal(copy.version, prev.version + (updated ? 1 : 0), `${at}: ${a}'s copy was written ${copy.version - prev.version} times`);
      assert.deepEqual(personalOf(copy.ics, a), m.personal.get(a), `${at}: ${a}'s own response, reminder and category`);
    }
    const rows = ledger.filter((r) => r.uid === m.uid);
    const sent = outbox.filter((r) => r.uid === m.uid);
    if (updated) {
      assert.deepEqual(rows.map((r) => [r.action, Number(r.attendees_notified)]), [['Updated', INTERNAL + EXTERNAL]], `${at}: ledger rows`);
      // Count rows: the unique index would hide a duplicate only if it exists; this finds one if it does not.
      assert.equal(sent.length, INTERNAL + EXTERNAL, `${at}: ${sent.length} outbox rows for ${INTERNAL + EXTERNAL} attendees: ${JSON.stringify(sent)}`);
      assert.deepEqual(sent.map((r) => r.recipient).sort(), [...m.internal, ...m.external].sort(), `${at}: outbox recipients`);
      for (const r of sent) assert.equal(Number(r.internal), m.internal.includes(r.recipient) ? 1 : 0, `${at}: ${r.recipient} internal flag`);
      const messages = new Set(sent.filter((r) => !Number(r.internal)).map((r) => r.message_id));
      assert.equal(messages.size, 1, `${at}: the external attendees share ${messages.size} iMIP messages, expected one`);
    } else {
      assert.deepEqual(rows, [], `${at}: a ledger row for a meeting that was not updated (no update without ledger, no ledger without update)`);
      assert.deepEqual(sent, [], `${at}: notifications for a meeting that was not updated`);
    }
  }
  // Every stored iMIP message belongs to a notification: none was left behind by a rolled-back batch.
  const messages = await k.selectFrom('outbox_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const used = await k.selectFrom('outbox').select((eb) => eb.fn.count<number>('message_id').distinct().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(messages.n), Number(used.n), `${when}: ${messages.n} iMIP messages stored, ${used.n} referenced by the outbox`);
  return migrated;
}

const LEASE_LOST = 'lease lost to another worker; leaving the request to it';
const isLine = (msg: string, correlationId: string) => (rec: LogRecord) => rec.msg === msg && rec.correlationId === correlationId;

/** The worker claimed the round's request (its log line), or the request had already Succeeded without it. */
async function claimOrFinished(db: Db, w: WorkerProcess, correlationId: string): Promise<'claimed' | 'finished before'> {
  // On PostgreSQL the killed worker's last COMMIT (finishing the request) may land after it died: then no worker
  // will ever claim, and only the request row tells. It is read every 100 ms while the claim line is awaited.
  // The pause is cut short when the claim line comes: waiting out the rest of it here once made the kills late (a
  // SQLite worker writes all of its 14 batches in about 60 ms, less than one pause) and most landed after the end.
  const stop = new AbortController();
  const finished = (async () => {
    while (!stop.signal.aborted) {
      if ((await requestRow(db, correlationId)).state === 'Succeeded') return 'finished before' as const;
      await pause(100, undefined, { signal: stop.signal }).catch(() => undefined);
    }
    return undefined;
  })();
  try {
    const claimed = w.waitForLog(`the claim of request ${correlationId}`, isLine('migration claimed', correlationId), { stallMs: STALL_MS, from: 0, signal: stop.signal })
      .then(() => 'claimed' as const);
    const first = await Promise.race([claimed, finished.then((f) => f ?? claimed)]);
    return first;
  } finally {
    stop.abort(new Error('settled'));
    await finished;
  }
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: a worker process killed at random moments`, { skip: t.skip }, () => {
    // No wall-clock timeout: every wait below fails when its worker is stuck (silent for MMS_CRASH_STALL_MS) or gone.
    it('leaves every meeting with the new block exactly once, every attendee copy with its own response and reminder, and every attendee with exactly one notification per changed meeting', async (tc) => {
      const rounds = ROUNDS;
      const seed = GIVEN_SEED !== undefined ? Number(GIVEN_SEED) >>> 0 : randomInt(2 ** 32);
      const random = prng(seed).next;
      const say = (line: string) => tc.diagnostic(line);
      say(`${t.name}: crash test seed ${seed}, ${rounds} rounds, ${MEETINGS} meetings, batches of ${WORKER.batchSize}, lease ${WORKER.leaseMs} ms`);
      const started = Date.now();
      const { db, url, drop } = await t.fresh();
      const workers: WorkerProcess[] = [];
      let round = 0;
      try {
        const world = await buildWorld(db, { organizers: 1, meetingsPerOrganizer: MEETINGS, internalPerMeeting: INTERNAL, externalPerMeeting: EXTERNAL, internalPool: 6, personalCopies: true });
        const organizer = world.organizers[0] as string;
        const first = await findUser(db.kysely, world.tenant.id, organizer);
        assert.ok(first);
        const pastIds = [first.conferenceId];
        const kills: Kill[] = [];
        let cleanRuns = 0;
        // How long a batch takes, from the gaps between a worker's own progress lines (the last one seen): the
        // kills spread over the time a batch really takes on this machine and database, now.
        let batchMs = 30;
        say(`world built in ${Date.now() - started} ms`);
        // A worker that cannot even open the database is started again, as a service manager would, and reported:
        // it is not what this test is about (see the summary line), and it never gets to claim anything.
        const startFailures: string[] = [];
        const startRunning = async () => {
          for (;;) {
            const w = startWorker({ url, ...WORKER });
            workers.push(w);
            try {
              return { w, workerId: await w.ready };
            } catch (err) {
              const exit = await w.exited;
              if (exit.code === null || startFailures.length >= 5) throw err;
              startFailures.push(w.output().trim().split('\n').pop() ?? `exit ${exit.code}`);
            }
          }
        };
        // The next round's first worker, started while this round's last one finishes (below).
        let spare: ReturnType<typeof startRunning> | undefined;
        const takeWorker = () => {
          const next = spare ?? startRunning();
          spare = undefined;
          return next;
        };
        const startSpare = () => {
          if (round >= rounds || spare) return;
          spare = startRunning();
          spare.catch(() => undefined);
        };
        const isEnd = (correlationId: string) => (r: LogRecord) => r.correlationId === correlationId
          && (r.msg === 'migration finished' || r.msg === 'migration failed' || r.msg === LEASE_LOST);

        for (round = 1; round <= rounds; round++) {
          const before = await world.allCopies();
          const change = await setDialInUser(world.ctx, world.tenant.id, organizer, { resetConferenceId: true });
          const correlationId = change.correlationId;
          assert.ok(correlationId, `round ${round}: resetting the conference ID queued no migration: ${change.decision.reason}`);
          assert.equal(change.coalesced, false, `round ${round}: the change merged into an older request`);
          const newId = change.user.conferenceId;
          assert.ok(!pastIds.includes(newId), `round ${round}: the new conference ID ${newId} was used before`);

          const planned = 1 + Math.floor(random() * MAX_KILLS_PER_ROUND);
          let killed = 0;
          // One round in three (round 1 first) makes its first possible kill at an event rather than a measured
          // moment: at once, on the progress line after the worker's first committed batch, while meetings are left.
          // A random moment (a fraction of the batch time measured so far) can land before the first commit or after
          // the last batch on a loaded machine; these land mid-migration whatever the load, so every run covers that
          // phase at least ceil(rounds / 3) times (the coverage check at the end).
          let eventKillDue = (round - 1) % 3 === 0;
          for (;;) {
            const { w } = await takeWorker();
            try {
              const seen = await claimOrFinished(db, w, correlationId);
              const doneAtClaim = await updatedCount(db, correlationId);
              if (seen === 'finished before') {
                const exit = await stopWorker(w, 'SIGTERM', STALL_MS);
                assert.deepEqual(exit, { code: 0, signal: null }, `round ${round}: the worker did not stop cleanly on SIGTERM:\n${w.output().slice(-4000)}`);
                const last = kills.at(-1);
                if (last?.round === round) kills[kills.length - 1] = { ...last, state: 'Succeeded' };
                break;
              }
              if (killed < planned) {
                // Which line to kill after: the claim itself, or the progress line after batch `e`, from the batch
                // before the first one that still has meetings to write up to the one before the last, so that the
                // kill lands inside or between batches that write. Then a random part of a batch's time.
                const firstWriting = Math.floor(doneAtClaim / WORKER.batchSize) + 1;
                const atClaim = random() < SHARE_AT_CLAIM;
                const e = firstWriting - 1 + Math.floor(random() * Math.max(1, BATCHES - firstWriting + 1));
                const fraction = random();
                const atEvent = eventKillDue && doneAtClaim + WORKER.batchSize < MEETINGS;
                if (atEvent) eventKillDue = false;
                let line = w.logs.findIndex((l) => isLine('migration claimed', correlationId)(l.rec));
                let finishedFirst = false;
                if (!atClaim || atEvent) {
                  // Progress line 0 comes once the meetings are listed and planned for, line j after batch j.
                  let prev: number | undefined;
                  for (let j = 0; j <= (atEvent ? 1 : e); j++) {
                    const ev = await w.waitForLog(`progress line ${j} of request ${correlationId}`, (r) => r.correlationId === correlationId && (r.msg === 'migration progress' || r.msg === 'migration finished'), { stallMs: STALL_MS, from: line + 1 });
                    line = ev.index;
                    if (ev.rec.msg === 'migration finished') {
                      finishedFirst = true;
                      break;
                    }
                    if (prev !== undefined && j > firstWriting - 1) batchMs = ev.at - prev;
                    prev = ev.at;
                  }
                }
                const delayMs = finishedFirst || atEvent ? 0 : Math.round(fraction * batchMs);
                await sleep(delayMs);
                w.signal('SIGKILL');
                const exit = await w.exited;
                assert.equal(exit.signal, 'SIGKILL', `round ${round}: the worker was not killed but exited ${JSON.stringify(exit)}`);
                killed++;
                const state = (await requestRow(db, correlationId)).state;
                const doneAtKill = await assertAllOrNothing(world, correlationId, newId, before, `round ${round}, after kill ${killed}`);
                kills.push({ round, after: atEvent ? 'batch 1, at once' : atClaim ? 'claim' : `batch ${e}`, delayMs, doneAtClaim, doneAtKill, state });
                if (state === 'Succeeded') break;
              } else {
                // The next round's worker starts now, while this one finishes: a start is most of a round's time. The
                // request in hand is leased (renewed per batch), so the newcomer has nothing to claim before the next
                // round's request; it idles through this round's checks, which read only what migrations write.
                startSpare();
                let end = await w.waitForLog(`request ${correlationId} to finish`, isEnd(correlationId), { stallMs: STALL_MS, from: 0 });
                const finishers = [w];
                if (end.rec.msg === LEASE_LOST && spare) {
                  // This worker stalled for longer than its lease and the newcomer took the request over: it finishes it.
                  const taker = (await takeWorker()).w;
                  finishers.push(taker);
                  end = await taker.waitForLog(`request ${correlationId} to finish`, isEnd(correlationId), { stallMs: STALL_MS, from: 0 });
                }
                const r = await requestRow(db, correlationId);
                assert.equal(r.state, 'Succeeded', `round ${round}: request ${r.state}: ${r.last_message} (worker: ${end.rec.msg})`);
                for (const f of finishers) {
                  const exit = await stopWorker(f, 'SIGTERM', STALL_MS);
                  assert.deepEqual(exit, { code: 0, signal: null }, `round ${round}: the worker did not stop cleanly on SIGTERM:\n${f.output().slice(-4000)}`);
                }
                cleanRuns++;
                break;
              }
            } finally {
              if (w.alive) await stopWorker(w, 'SIGKILL');
            }
          }

          // The round's outcome, with none of its workers running (the next round's may be starting: see above).
          startSpare();
          const request = await requestRow(db, correlationId);
          assert.equal(request.state, 'Succeeded', `round ${round}: ${request.last_message}`);
          assert.deepEqual(
            [request.total_meeting, request.invites_update, request.failed_meeting, request.skipped_meeting].map(Number),
            [MEETINGS, MEETINGS, 0, 0],
            `round ${round}: TotalMeeting, InvitesUpdate, FailedMeeting, SkippedMeeting (${request.last_message})`,
          );
          const migrated = await assertAllOrNothing(world, correlationId, newId, before, `round ${round}, finished`);
          assert.equal(migrated, MEETINGS, `round ${round}: ${migrated} of ${MEETINGS} meetings carry conference ID ${newId}`);
          const outboxRows = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('correlation_id', '=', correlationId).executeTakeFirstOrThrow();
          assert.equal(Number(outboxRows.n), MEETINGS * (INTERNAL + EXTERNAL), `round ${round}: outbox rows of the request`);
          const allOutbox = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
          assert.equal(Number(allOutbox.n), round * MEETINGS * (INTERNAL + EXTERNAL), `round ${round}: outbox rows of all rounds so far`);
          const ledgerRows = await db.kysely.selectFrom('migration_meetings').select(['action']).where('correlation_id', '=', correlationId).execute();
          assert.equal(ledgerRows.length, MEETINGS, `round ${round}: ledger rows`);
          assert.ok(ledgerRows.every((r) => r.action === 'Updated'), `round ${round}: ledger actions ${[...new Set(ledgerRows.map((r) => r.action))].join(', ')}`);

          // The new block, exactly once, in the organizer's copy and every internal attendee's copy; each attendee's
          // copy still holds their own response, reminder and category.
          const user = await findUser(db.kysely, world.tenant.id, organizer);
          assert.ok(user);
          const { tenant, bridges } = await currentDirectory(world);
          const copies = await world.allCopies();
          for (const m of world.meetings) {
            const block: string = renderBlock(blockInputFor(user, tenant, bridges, m.meetingId)).text;
            for (const mailbox of [m.organizer, ...m.internal]) {
              const at = `round ${round}: ${mailbox}'s copy of ${m.uid}`;
              const copy = copies.get(key(mailbox, m.uid));
              assert.ok(copy, `${at} is missing`);
              const description = descriptionOf(copy.ics);
              assertNewBlockOnce(copy.ics, description, block, newId, pastIds, at);
              const whole = unfold(copy.ics);
              const own = m.personal.get(mailbox);
              if (mailbox !== m.organizer) {
                assert.ok(own, `${at}: the world gave this attendee nothing of their own`);
                assert.deepEqual(personalOf(copy.ics, mailbox), own, `${at}: their own response, reminder and category`);
                assert.equal(occurrences(whole, 'BEGIN:VALARM'), 1, `${at}: ${occurrences(whole, 'BEGIN:VALARM')} alarms, expected their one`);
              } else {
                assert.deepEqual(personalOf(copy.ics, m.internal[0] as string).alarms, [], `${at}: the organizer copy gained an attendee's alarm`);
              }
            }
          }
          pastIds.push(newId);
        }

        const byPhase = new Map<string, number>();
        for (const k of kills) byPhase.set(phaseOf(k), (byPhase.get(phaseOf(k)) ?? 0) + 1);
        say(`${t.name}: ${rounds} rounds, ${kills.length} SIGKILLs, ${cleanRuns} clean finishes, ${Math.round((Date.now() - started) / 1000)} s (last batch took ${Math.round(batchMs)} ms)`);
        for (const [phase, n] of byPhase) say(`  ${n} killed ${phase}`);
        for (const f of startFailures) say(`  a worker failed to start and was started again: ${f}`);
        say(`  meetings done at each kill (of ${MEETINGS}): ${kills.map((k) => (k.state === 'Succeeded' ? `${k.doneAtKill}S` : String(k.doneAtKill))).join(' ')}`);
        const mid = kills.filter((k) => phaseOf(k).startsWith('mid-migration')).length;
        // The point of the test is kills that land while meetings are being written; a run where they mostly land at
        // the edges would prove little (the schedule would be wrong), so it fails instead of passing quietly.
        assert.ok(mid >= Math.ceil(rounds / 3), `only ${mid} of ${kills.length} kills landed mid-migration`);
      } catch (err) {
        const where = round >= 1 && round <= rounds ? `round ${round} of ${rounds}` : 'outside the rounds';
        (err as Error).message = `${t.name} crash test failed in ${where} (seed ${seed}); replay the kill choices: MMS_CRASH_SEED=${seed} MMS_CRASH_ROUNDS=${Math.min(round, rounds) || rounds} npx tsx test/run.ts test/crash.test.ts --test-name-pattern=${t.name}\n${(err as Error).message}`;
        throw err;
      } finally {
        await Promise.all(workers.filter((w) => w.alive).map((w) => stopWorker(w, 'SIGKILL')));
        await drop();
      }
    });
  });
}
