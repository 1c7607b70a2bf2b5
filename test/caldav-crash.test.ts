// Issue 8 §4/§6: the crash test on a real calendar server. The organizer's and the internal attendees' mailboxes are
// on a Radicale of the test's own (caldav-world.ts); real `mms serve` processes migrate the organizer's meetings
// round after round and are killed with SIGKILL at random moments; in some rounds Radicale itself is killed
// (SIGKILL) and started again while a worker runs, and in some a user edits a meeting through Radicale (a
// conditional PUT, as a calendar client does) while a worker runs. No transaction spans a PUT and the database: the
// engine records an intent before each PUT, marks what it writes with X-MMS-MIGRATION, and records the ledger and
// outbox rows after. Whatever instant a kill lands on, after each round:
//   - every organizer object carries the new block exactly once, and the round's marker;
//   - every internal attendee's copy carries the new block exactly once and still their own PARTSTAT, VALARM and
//     category (their copies differ from the organizer's: the copy-rewrite path runs, not a copy of the text);
//   - every user edit made so far is still there;
//   - the ledger has exactly one Updated row per meeting, the outbox exactly one row per attendee per meeting
//     (internal Applied, external Queued; the external attendees of a meeting share one iMIP message), and no
//     intent is left.
// After every kill, with no worker running (and Radicale up), the state is checked to be recoverable: a ledger row
// implies the organizer object and every attendee copy hold the new block and the outbox rows exist; an object
// written without a ledger row still has its intent (the next attempt finds it by the marker); an attendee copy is
// never updated before the organizer object; no notification without a ledger row.
//
// Kills are scheduled on the worker's own log lines as in crash.test.ts (`migration claimed`, debug `migration
// progress` per recorded batch, then a random part of a batch's measured time; in one round in four the first kill
// comes at once on the progress line after the worker's first committed batch, so that kills land mid-migration
// however loaded the machine is); so are the Radicale kills and the user edits. Workers retry a Radicale outage
// after MMS_RETRY_BASE (200 ms here, doubling), so waits follow events (a wait fails only when its worker exits or
// stays silent for MMS_CRASH_STALL_MS, 120 s by default).
//
// Two worker processes are kept alive, as two service instances would be: the one that claims runs the request,
// the other stands by (already started: a start-up, even of the compiled dist/, is the bulk of this test's time) and takes
// the request over once a killed worker's lease (600 ms) expires, or claims the retry after a Radicale outage.
// Each kill starts a new standby. Whenever the test checks the state "with no worker running", every live worker
// is stopped with SIGSTOP (a stopped process does nothing) and continued after.
//
// Choices come from a seeded generator per database half; a failure names the half, the round and the seed, and
// MMS_CRASH_SEED=<n> with MMS_CRASH_ROUNDS=<round> (SQLite) or MMS_CALDAV_CRASH_PG_ROUNDS=<round> (PostgreSQL)
// replays them (the moments still follow the worker's events). Rounds: 20 on SQLite (MMS_CRASH_ROUNDS), 4 on
// PostgreSQL (MMS_CALDAV_CRASH_PG_ROUNDS): the file must stay well under 4 minutes for both on a busy 2-core
// machine, and the PostgreSQL half proves the same protocol on the other dialect (its late-COMMIT case included);
// raise MMS_CALDAV_CRASH_PG_ROUNDS for a longer run there (10 rounds: about 2.5 minutes). For the same reason the
// meetings have 2 internal attendees, not 3: every attendee copy costs Radicale a read and a write per round.
// Measured on the 2-core machine (load average 4-9): SQLite 75-118 s, PostgreSQL 22-33 s, the file 1m40-2m35; at load
// 4-5, with the workers' REST API off: SQLite 46 s, PostgreSQL 12 s, the file 64 s (91 s with it on).
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TEST_DATABASES } from './helpers/databases.js';
import { RADICALE_SKIP } from './helpers/radicale.js';
import { buildDavWorld, type DavWorld } from './helpers/caldav-world.js';
import { assertRecoverable, descOf, key, markerOf, requestRow, updatedCount } from './helpers/caldav-crash-checks.js';
import { assertNewBlockOnce, currentDirectory, occurrences, personalOf, unfold } from './helpers/world.js';
import { ensureBuiltDist } from './helpers/built-dist.js';
import { sleep, startWorker, stopWorker, type LogRecord, type WorkerProcess, type WorkerSettings } from './helpers/worker-process.js';
import { setDialInUser } from '../src/directory/index.js';
import { blockInputFor } from '../src/meetings/index.js';
import { renderBlock } from '../src/domain/meeting-block/index.js';
import { findUser } from '../src/store/directory-repo.js';
import type { Db } from '../src/store/index.js';
import { prng } from '../src/demo/prng.js';

const GIVEN_SEED = process.env.MMS_CRASH_SEED;
const SQLITE_ROUNDS = Number(process.env.MMS_CRASH_ROUNDS ?? 20);
const PG_ROUNDS = Number(process.env.MMS_CALDAV_CRASH_PG_ROUNDS ?? 4);
const STALL_MS = Number(process.env.MMS_CRASH_STALL_MS ?? 120_000);
const MEETINGS = 12;
const BATCH_SIZE = 4;
const INTERNAL = 2;
const EXTERNAL = 2;
const MAX_KILLS_PER_ROUND = 3;
const SHARE_AT_CLAIM = 0.15;
/** Rounds in which Radicale is killed and started again while a worker runs, and rounds with a user's edit. */
const SHARE_RADICALE_ROUNDS = 1 / 3;
const SHARE_EDIT_ROUNDS = 1 / 2;
/** Longest time Radicale stays down before the test starts it again. */
const MAX_DOWN_MS = 1000;

function workerSettings(url: string, secretKey: string): WorkerSettings {
  return {
    url, leaseMs: 600, pollMs: 50, batchSize: BATCH_SIZE, logLevel: 'debug',
    // Retries of a Radicale outage within a second or so; kills count as attempts too, so the limit is high. No
    // REST API (nothing here speaks HTTP): compiling its routes' schemas was half the CPU of every worker start.
    env: { MMS_SECRET_KEY: secretKey, MMS_RETRY_BASE: '200ms', MMS_RETRY_ATTEMPTS: '50', MMS_HTTP_ADDRESS: 'off' },
  };
}
const BATCHES = Math.ceil(MEETINGS / BATCH_SIZE);

interface Kill {
  readonly round: number;
  readonly doneAtClaim: number;
  /** Meetings recorded (ledger) when the worker was killed, and meetings written on Radicale but not recorded. */
  readonly doneAtKill: number;
  readonly writtenOnly: number;
  readonly state: string;
}

const WRITTEN_NOT_RECORDED = 'between a PUT and its record (written on Radicale, not in the ledger)';
function phaseOf(k: Kill): string {
  if (k.state === 'Succeeded') return 'after the request had Succeeded';
  if (k.writtenOnly > 0) return WRITTEN_NOT_RECORDED;
  if (k.doneAtKill === MEETINGS) return 'after the last batch, before the request was finished';
  if (k.doneAtKill === k.doneAtClaim) return 'before this worker wrote anything';
  return 'between batches';
}

interface Edit {
  readonly round: number;
  readonly who: string;
  readonly uid: string;
  readonly line: string;
  readonly conflicts: number;
  readonly refused: number;
}


const isLine = (msg: string, correlationId: string) => (rec: LogRecord) => rec.msg === msg && rec.correlationId === correlationId;
const LEASE_LOST = 'lease lost to another worker; leaving the request to it';
const WILL_RETRY = 'migration attempt failed; will retry';
/** Lines that end a worker's attempt without finishing the request: either worker may claim the retry. */
const GAVE_UP = new Set([LEASE_LOST, WILL_RETRY]);
/** A progress line, or one that ends the attempt (finished, failed, given up). */
const isStep = (correlationId: string) => (r: LogRecord) => r.correlationId === correlationId
  && (r.msg === 'migration progress' || r.msg === 'migration finished' || r.msg === 'migration failed' || GAVE_UP.has(r.msg ?? ''));

/**
 * Waits, from the claim line at `from`, for `step` + 1 progress lines of the worker (none when `step` < 0).
 * Resolves true when the moment came (or the attempt ended first), false when the worker exited or the run ended.
 */
async function reachLine(w: WorkerProcess, correlationId: string, from: number, step: number, signal: AbortSignal): Promise<boolean> {
  try {
    let at = from;
    for (let j = 0; j <= step; j++) {
      const ev = await w.waitForLog(`progress line ${j} of ${correlationId}`, isStep(correlationId), { stallMs: STALL_MS, from: at + 1, signal });
      if (ev.rec.msg !== 'migration progress') return true;
      at = ev.index;
    }
    return true;
  } catch (err) {
    if (!w.alive || signal.aborted) return false;
    throw err;
  }
}

/**
 * Which live worker claims the round's request next (the claim lines after each worker's mark), or that the request
 * had Succeeded before any could (on PostgreSQL a killed worker's last COMMIT may land after it died).
 */
async function nextClaim(db: Db, live: readonly WorkerProcess[], marks: Map<WorkerProcess, number>, correlationId: string): Promise<{ w: WorkerProcess; at: number } | 'finished before'> {
  const stop = new AbortController();
  const finished = (async () => {
    while (!stop.signal.aborted) {
      if ((await requestRow(db, correlationId)).state === 'Succeeded') return 'finished before' as const;
      await sleep(100);
    }
    return undefined;
  })();
  try {
    const claims = live.map((w) => w.waitForLog(`the claim of request ${correlationId}`, isLine('migration claimed', correlationId), { stallMs: STALL_MS, from: marks.get(w) ?? 0, signal: stop.signal })
      .then((ev) => ({ w, at: ev.index })));
    for (const c of claims) c.catch(() => undefined);
    const claimed: Promise<{ w: WorkerProcess; at: number } | 'finished before'> = Promise.race(claims);
    return await Promise.race([claimed, finished.then((f) => f ?? claimed)]);
  } finally {
    stop.abort(new Error('settled'));
    await finished;
  }
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: workers and Radicale killed at random moments while meetings on Radicale are migrated`, { skip: t.skip ?? RADICALE_SKIP }, () => {
    it('leaves every meeting with the new block exactly once, every copy with its owner\'s response and reminder, every user edit, and exactly one update per attendee per changed meeting', async (tc) => {
      const rounds = t.name === 'postgres' ? PG_ROUNDS : SQLITE_ROUNDS;
      const seed = GIVEN_SEED !== undefined ? Number(GIVEN_SEED) >>> 0 : randomInt(2 ** 32);
      const random = prng(seed).next;
      const say = (line: string) => tc.diagnostic(line);
      say(`${t.name}: CalDAV crash test seed ${seed}, ${rounds} rounds, ${MEETINGS} meetings (${INTERNAL} internal attendees with own copies, ${EXTERNAL} external), batches of ${BATCH_SIZE}`);
      const started = Date.now();
      const { db, url, drop } = await t.fresh();
      const workers: WorkerProcess[] = [];
      let dav: DavWorld | undefined;
      let round = 0;
      try {
        dav = await buildDavWorld(db, { organizers: 1, meetingsPerOrganizer: MEETINGS, internalPerMeeting: INTERNAL, externalPerMeeting: EXTERNAL, internalPool: INTERNAL + 1, personalCopies: true });
        const d = dav;
        const { world, radicale } = d;
        // The compiled program users run (dist/, built from the sources as they are now): a tsx start costs ~2 s of CPU.
        ensureBuiltDist();
        const settings = workerSettings(url, d.secretKey);
        const organizer = world.organizers[0] as string;
        const first = await findUser(db.kysely, world.tenant.id, organizer);
        assert.ok(first);
        const pastIds = [first.conferenceId];
        const kills: Kill[] = [];
        const edits: Edit[] = [];
        // Each meeting's markers of earlier rounds: a round's write carries a marker of its own.
        const markersSeen = new Map<string, string[]>();
        const restarts: string[] = [];
        let missedRestarts = 0;
        let leaseLosses = 0;
        let unseenFinishes = 0;
        let batchMs = 300;
        say(`world on Radicale built in ${Date.now() - started} ms`);

        // Two workers are kept alive: the one that claims runs the request, the other stands by (already started,
        // as a second service instance would) and takes over once a killed worker's lease expires. While the test
        // checks the state "with no worker running" every live worker is stopped (SIGSTOP), then continued.
        const live: WorkerProcess[] = [];
        const marks = new Map<WorkerProcess, number>();
        const ensureTwo = () => {
          for (let i = live.length - 1; i >= 0; i--) if (!(live[i] as WorkerProcess).alive) live.splice(i, 1);
          while (live.length < 2) {
            const w = startWorker(settings);
            workers.push(w);
            live.push(w);
            marks.set(w, 0);
          }
        };
        const pauseAll = () => {
          for (const w of live) w.signal('SIGSTOP');
        };
        const resumeAll = () => {
          for (const w of live) {
            // Nothing a stopped worker wrote before it stopped is a claim of what comes next.
            marks.set(w, Math.max(marks.get(w) ?? 0, w.logs.length));
            w.signal('SIGCONT');
          }
        };

        for (round = 1; round <= rounds; round++) {
          ensureTwo();
          resumeAll();
          const change = await setDialInUser(world.ctx, world.tenant.id, organizer, { resetConferenceId: true });
          const correlationId = change.correlationId;
          assert.ok(correlationId, `round ${round}: resetting the conference ID queued no migration: ${change.decision.reason}`);
          const newId = change.user.conferenceId;
          assert.ok(!pastIds.includes(newId), `round ${round}: the new conference ID ${newId} was used before`);

          const planned = 1 + Math.floor(random() * MAX_KILLS_PER_ROUND);
          // Round 2 always has both, so that a short run (PostgreSQL's 4 rounds) has them too.
          let radicaleDue = random() < SHARE_RADICALE_ROUNDS || round === 2;
          let editDue = random() < SHARE_EDIT_ROUNDS || round === 2;
          // What the edit is, drawn now so that a seed replays it: a meeting, and whose object (organizer or attendee).
          const editMeeting = world.meetings[Math.floor(random() * MEETINGS)] ?? world.meetings[0];
          assert.ok(editMeeting);
          const editWho = random() < 0.5 ? editMeeting.organizer : editMeeting.internal[Math.floor(random() * INTERNAL)] as string;
          const editLine = `Note added by ${editWho.split('@')[0]} in round ${round}: bring the Q${1 + (round % 4)} numbers.`;
          const makeEdit = async () => {
            editDue = false;
            const r = await d.userEdit(editWho, editMeeting.uid, editLine);
            edits.push({ round, who: editWho, uid: editMeeting.uid, line: editLine, ...r });
          };
          let killed = 0;
          // One round in four (round 1 first) makes its first possible kill at an event rather than a measured
          // moment: at once, on the worker's progress line after its first committed batch, while meetings are left.
          // On a loaded machine a random moment (a fraction of the batch time measured so far) can land before the
          // first PUT or after the last batch; these kills land mid-migration whatever the load, so every run covers
          // that phase at least ceil(rounds / 4) times (the coverage check at the end).
          let eventKillDue = (round - 1) % 4 === 0;
          for (;;) {
            const got = await nextClaim(db, live, marks, correlationId);
            if (got === 'finished before') {
              // Finished by a worker whose claim the test did not see: on PostgreSQL a killed worker's last COMMIT
              // landing after its death, or the standby that took an expired lease over just before a kill.
              unseenFinishes++;
              break;
            }
            const { w, at } = got;
            marks.set(w, at + 1);
            const doneAtClaim = await updatedCount(db, correlationId);
            // Side events of this run: choices drawn now (replayable), moments on the worker's own lines.
            const runOver = new AbortController();
            const side: Array<Promise<void>> = [];
            // In the run meant to finish, a side event still due comes early (after the claim), before the end.
            const lastRun = killed >= planned;
            if (radicaleDue) {
              const drawn = Math.floor(random() * BATCHES) - 1; // drawn always, so that a seed replays the rest
              const step = lastRun ? -1 : drawn;
              const fraction = random();
              const downMs = Math.round(random() * MAX_DOWN_MS);
              side.push((async () => {
                if (!(await reachLine(w, correlationId, at, step, runOver.signal))) return;
                await sleep(fraction * batchMs);
                if (runOver.signal.aborted || !w.alive) return; // the worker was killed first: next run
                radicaleDue = false;
                const done = await updatedCount(db, correlationId);
                const running = w.alive;
                await radicale.kill();
                restarts.push(`${done}/${MEETINGS}${running ? '' : '(worker gone)'}`);
                await sleep(downMs);
                await radicale.start();
              })());
            }
            if (editDue) {
              const drawn = Math.floor(random() * BATCHES) - 1; // drawn always, so that a seed replays the rest
              const step = lastRun ? -1 : drawn;
              const fraction = random();
              side.push((async () => {
                if (!(await reachLine(w, correlationId, at, step, runOver.signal))) return;
                await sleep(fraction * batchMs);
                if (runOver.signal.aborted || !w.alive) return;
                await makeEdit();
              })());
            }
            const settle = async () => {
              runOver.abort(new Error('the run is over'));
              await Promise.all(side);
              if (!radicale.running) await radicale.start();
            };
            try {
              if (killed < planned) {
                // As crash.test.ts: after the claim, or after a progress line from the batch before the first one
                // with meetings left, then a random part of a batch's measured time.
                const firstWriting = Math.floor(doneAtClaim / BATCH_SIZE) + 1;
                const atClaim = random() < SHARE_AT_CLAIM;
                const e = firstWriting - 1 + Math.floor(random() * Math.max(1, BATCHES - firstWriting + 1));
                const fraction = random();
                const atEvent = eventKillDue && doneAtClaim + BATCH_SIZE < MEETINGS;
                if (atEvent) eventKillDue = false;
                let line = at;
                let ended: string | undefined;
                if (!atClaim || atEvent) {
                  let prev: number | undefined;
                  for (let j = 0; j <= (atEvent ? 1 : e); j++) {
                    const ev = await w.waitForLog(`progress line ${j} of request ${correlationId}`, isStep(correlationId), { stallMs: STALL_MS, from: line + 1 });
                    line = ev.index;
                    if (ev.rec.msg !== 'migration progress') {
                      ended = ev.rec.msg;
                      break;
                    }
                    if (prev !== undefined && j > firstWriting - 1) batchMs = ev.at - prev;
                    prev = ev.at;
                  }
                }
                if (ended === 'migration failed') {
                  const r = await requestRow(db, correlationId);
                  assert.fail(`round ${round}: the request ended ${r.state}: ${r.last_message}`);
                }
                if (GAVE_UP.has(ended ?? '')) {
                  // The attempt ended (Radicale away: retried; or the lease lost to the other worker): no kill now;
                  // whichever worker claims the request next is the one to kill.
                  if (ended === LEASE_LOST) leaseLosses++;
                  marks.set(w, line + 1);
                  await settle();
                  continue;
                }
                await sleep(ended || atEvent ? 0 : Math.round(fraction * batchMs));
                runOver.abort(new Error('the worker is being killed')); // side events not begun wait for the next run
                pauseAll();
                w.signal('SIGCONT');
                w.signal('SIGKILL');
                const exit = await w.exited;
                assert.equal(exit.signal, 'SIGKILL', `round ${round}: the worker was not killed but exited ${JSON.stringify(exit)}`);
                killed++;
                await settle();
                const state = (await requestRow(db, correlationId)).state;
                const seen = await assertRecoverable(d, correlationId, newId, `round ${round}, after kill ${killed}`);
                kills.push({ round, doneAtClaim, doneAtKill: seen.recorded, writtenOnly: seen.writtenOnly, state });
                ensureTwo();
                if (state === 'Succeeded') break;
                resumeAll();
              } else {
                const end = await w.waitForLog(`request ${correlationId} to finish`, (r) => r.correlationId === correlationId && (r.msg === 'migration finished' || r.msg === 'migration failed' || GAVE_UP.has(r.msg ?? '')), { stallMs: STALL_MS, from: at + 1 });
                await settle();
                if (GAVE_UP.has(end.rec.msg ?? '')) {
                  if (end.rec.msg === LEASE_LOST) leaseLosses++;
                  marks.set(w, end.index + 1);
                  continue;
                }
                const r = await requestRow(db, correlationId);
                assert.equal(r.state, 'Succeeded', `round ${round}: request ${r.state}: ${r.last_message} (worker: ${end.rec.msg})`);
                break;
              }
            } finally {
              runOver.abort(new Error('the run is over'));
              await Promise.allSettled(side);
              if (!radicale.running) await radicale.start();
            }
          }
          // A round that ended before its side events came: the edit is made now (after the migration); a Radicale
          // restart is counted as missed.
          if (editDue) await makeEdit();
          if (radicaleDue) missedRestarts++;

          // The round's outcome, with no worker running (both stopped).
          pauseAll();
          const request = await requestRow(db, correlationId);
          assert.equal(request.state, 'Succeeded', `round ${round}: ${request.last_message}`);
          assert.deepEqual(
            [request.total_meeting, request.invites_update, request.failed_meeting, request.skipped_meeting].map(Number),
            [MEETINGS, MEETINGS, 0, 0],
            `round ${round}: TotalMeeting, InvitesUpdate, FailedMeeting, SkippedMeeting (${request.last_message})`,
          );
          const { recorded } = await assertRecoverable(d, correlationId, newId, `round ${round}, finished`);
          assert.equal(recorded, MEETINGS, `round ${round}: ${recorded} of ${MEETINGS} meetings recorded as Updated`);
          const intents = await db.kysely.selectFrom('write_intents').select(['uid']).execute();
          assert.deepEqual(intents, [], `round ${round}: intents left after the request Succeeded`);
          const outboxRows = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('correlation_id', '=', correlationId).executeTakeFirstOrThrow();
          assert.equal(Number(outboxRows.n), MEETINGS * (INTERNAL + EXTERNAL), `round ${round}: outbox rows of the request`);
          const allOutbox = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
          assert.equal(Number(allOutbox.n), round * MEETINGS * (INTERNAL + EXTERNAL), `round ${round}: outbox rows of all rounds so far`);
          const ledgerRows = await db.kysely.selectFrom('migration_meetings').select(['action']).where('correlation_id', '=', correlationId).execute();
          assert.equal(ledgerRows.length, MEETINGS, `round ${round}: ledger rows`);

          const user = await findUser(db.kysely, world.tenant.id, organizer);
          assert.ok(user);
          const { tenant, bridges } = await currentDirectory(world);
          const objects = await d.allObjects();
          for (const m of world.meetings) {
            const block: string = renderBlock(blockInputFor(user, tenant, bridges, m.meetingId)).text;
            for (const mailbox of [m.organizer, ...m.internal]) {
              const where = `round ${round}: ${mailbox}'s object of ${m.uid}`;
              const o = objects.get(key(mailbox, m.uid));
              assert.ok(o, `${where} is missing`);
              const description = descOf(o);
              assertNewBlockOnce(o.ics, description, block, newId, pastIds, where);
              const whole = unfold(o.ics);
              for (const e of edits.filter((x) => x.who === mailbox && x.uid === m.uid)) {
                assert.equal(occurrences(description, e.line), 1, `${where}: the user's edit of round ${e.round} ("${e.line}") is there ${occurrences(description, e.line)} times:\n${description}`);
              }
              if (mailbox === m.organizer) {
                const marker = markerOf(o.ics);
                assert.ok(marker && !(markersSeen.get(m.uid) ?? []).includes(marker), `${where}: the marker of this round's write (${marker}), new for each write`);
                markersSeen.set(m.uid, [...(markersSeen.get(m.uid) ?? []), marker]);
                assert.deepEqual(personalOf(o.ics, m.internal[0] as string).alarms, [], `${where}: the organizer's object gained an attendee's alarm`);
              } else {
                assert.deepEqual(personalOf(o.ics, mailbox), m.personal.get(mailbox), `${where}: their own response, reminder and category`);
                assert.equal(occurrences(whole, 'BEGIN:VALARM'), 1, `${where}: ${occurrences(whole, 'BEGIN:VALARM')} alarms, expected their one`);
              }
            }
          }
          pastIds.push(newId);
        }

        // The workers still alive stop cleanly on SIGTERM, as a service manager stops them.
        resumeAll();
        for (const w of live) {
          await w.ready;
          const exit = await stopWorker(w, 'SIGTERM', STALL_MS);
          assert.deepEqual(exit, { code: 0, signal: null }, `a worker did not stop cleanly on SIGTERM:\n${w.output().slice(-4000)}`);
        }

        const byPhase = new Map<string, number>();
        for (const k of kills) byPhase.set(phaseOf(k), (byPhase.get(phaseOf(k)) ?? 0) + 1);
        say(`${t.name}: ${rounds} rounds, ${kills.length} worker SIGKILLs, ${restarts.length} Radicale SIGKILLs+restarts (${missedRestarts} rounds where the request finished first), ${edits.length} user edits, ${workers.length} worker processes, ${leaseLosses} leases lost, ${unseenFinishes} rounds finished unseen, ${Math.round((Date.now() - started) / 1000)} s (last batch took ${Math.round(batchMs)} ms)`);
        for (const [phase, n] of byPhase) say(`  ${n} worker kills ${phase}`);
        say(`  meetings recorded at each worker kill (of ${MEETINGS}): ${kills.map((k) => (k.state === 'Succeeded' ? `${k.doneAtKill}S` : `${k.doneAtKill}${k.writtenOnly ? `+${k.writtenOnly}w` : ''}`)).join(' ')} (+Nw: N written, not recorded)`);
        say(`  meetings recorded at each Radicale kill: ${restarts.join(' ') || '-'}`);
        say(`  user edits: ${edits.map((e) => `r${e.round}:${e.who === organizer ? 'organizer' : 'attendee'}${e.conflicts ? `/${e.conflicts}x412` : ''}${e.refused ? '/waited for the server' : ''}`).join(' ') || '-'}`);
        const mid = kills.filter((k) => [WRITTEN_NOT_RECORDED, 'between batches'].includes(phaseOf(k))).length;
        assert.ok(mid >= Math.ceil(rounds / 4), `only ${mid} of ${kills.length} worker kills landed mid-migration`);
        if (rounds >= 2) assert.ok(restarts.length + missedRestarts >= 1, 'Radicale was never killed');
      } catch (err) {
        const where = round >= 1 && round <= rounds ? `round ${round} of ${rounds}` : 'outside the rounds';
        const roundsVar = t.name === 'postgres' ? 'MMS_CALDAV_CRASH_PG_ROUNDS' : 'MMS_CRASH_ROUNDS';
        (err as Error).message = `${t.name} CalDAV crash test failed in ${where} (seed ${seed}); replay: MMS_CRASH_SEED=${seed} ${roundsVar}=${Math.min(round, rounds) || rounds} npx tsx test/run.ts test/caldav-crash.test.ts --test-name-pattern=${t.name}\n${(err as Error).message}${dav ? `\nRadicale log: ${dav.radicale.log.slice(-1500)}` : ''}`;
        throw err;
      } finally {
        for (const w of workers) if (w.alive) w.signal('SIGCONT');
        await Promise.all(workers.filter((w) => w.alive).map((w) => stopWorker(w, 'SIGKILL')));
        await dav?.dispose();
        await drop();
      }
    });
  });
}
