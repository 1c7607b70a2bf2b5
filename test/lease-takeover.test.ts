// A crash must not cost a whole lease (issue 7 §2). A lease names the process holding it (host name, pid, start
// time); a worker takes back at once the leases of processes on its own host that no longer run — the pid is gone,
// or now belongs to a process started at another time — and leaves leases of other hosts, and of processes that
// still run, to expire.
//
// The first half kills a real `mms serve` process mid-migration under a 60-second lease and measures how soon a
// worker started after it takes the request back (the claim line of the new worker, then its row); the wait fails
// only when that worker goes silent for STALL_MS, far below the lease, so on code that waits for expiry it fails.
// The second half puts lease holders into rows directly — a dead pid, a pid of another host, a live process, a live
// pid with another start time — and claims on the test's clock.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { buildWorld } from './helpers/world.js';
import { killAllWorkers, startWorker, stopWorker, type LogRecord } from './helpers/worker-process.js';
import { HOUR, MINUTE, REF, queueFixture, type QueueFixture } from './helpers/queue-fixture.js';
import { MIGRATION_DELAY_MS as DELAY } from './helpers/directory-fixture.js';
import { setDialInUser } from '../src/directory/index.js';
import { claimRequests } from '../src/store/queue-repo.js';
import { currentHolder, type LeaseHolder } from '../src/store/lease-holder.js';
import type { Db } from '../src/store/index.js';

const LEASE_MS = 60_000;
/** A worker silent this long is stuck (it logs its claim at once when it takes the request back). */
const STALL_MS = 20_000;
const MEETINGS = 40;
const BATCH = 2;

async function attempts(db: Db, correlationId: string): Promise<Array<[string, string | null]>> {
  const rows = await db.kysely.selectFrom('migration_attempts').select(['worker_id', 'outcome']).where('correlation_id', '=', correlationId).orderBy('id').execute();
  return rows.map((r) => [r.worker_id, r.outcome]);
}

const isLine = (msg: string, correlationId: string) => (rec: LogRecord) => rec.msg === msg && rec.correlationId === correlationId;

for (const t of TEST_DATABASES) {
  describe(`${t.name}: a killed worker's lease is taken back at once on its host`, { skip: t.skip }, () => {
    it('a worker started after a SIGKILL takes the request back within seconds, not the 60 s lease, and finishes it exactly once', { timeout: 180_000 }, async (tc) => {
      const { db, url, drop } = await t.fresh();
      try {
        const world = await buildWorld(db, { organizers: 1, meetingsPerOrganizer: MEETINGS, internalPerMeeting: 2, externalPerMeeting: 2, internalPool: 4 });
        const organizer = world.organizers[0] as string;
        const settings = { url, leaseMs: LEASE_MS, pollMs: 50, batchSize: BATCH, logLevel: 'debug' as const };
        const first = startWorker(settings);
        const firstId = await first.ready;
        const change = await setDialInUser(world.ctx, world.tenant.id, organizer, { resetConferenceId: true });
        const id = change.correlationId;
        assert.ok(id, `no migration queued: ${change.decision.reason}`);
        // Kill it right after its first committed batch: mid-migration, its lease fresh.
        const claim = await first.waitForLog('the first claim', isLine('migration claimed', id), { stallMs: STALL_MS, from: 0 });
        let line = claim.index;
        for (let j = 0; j <= 1; j++) line = (await first.waitForLog(`progress line ${j}`, isLine('migration progress', id), { stallMs: STALL_MS, from: line + 1 })).index;
        first.signal('SIGKILL');
        assert.equal((await first.exited).signal, 'SIGKILL');
        const held = await db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.deepEqual([held.state, held.lease_owner, held.lease_host, held.lease_pid], ['InProgress', firstId, os.hostname(), first.pid], 'the killed worker holds the lease');
        assert.ok(held.invites_update < MEETINGS, `the killed worker had finished already (${held.invites_update} updated)`);

        const started = performance.now();
        const second = startWorker(settings);
        const secondId = await second.ready;
        const ready = performance.now();
        const taken = await second.waitForLog('the request taken back', isLine('migration claimed', id), { stallMs: STALL_MS, from: 0 });
        const row = await db.kysely.selectFrom('migration_requests').select(['lease_owner', 'lease_expires_at', 'lease_pid']).where('id', '=', id).executeTakeFirstOrThrow();
        assert.deepEqual([row.lease_owner, row.lease_pid], [secondId, second.pid], 'the new worker holds the lease');
        const recoveryMs = Math.round(taken.at - started);
        tc.diagnostic(`${t.name}: recovery after SIGKILL: worker restarted -> request taken back in ${recoveryMs} ms (${Math.round(taken.at - ready)} ms after it ran; lease ${LEASE_MS} ms)`);
        // The old lease still had most of its minute to run when the new worker took it over.
        const newLeaseStart = Number(row.lease_expires_at) - LEASE_MS;
        assert.ok(newLeaseStart < Number(held.lease_expires_at) - LEASE_MS / 2, `taken back ${newLeaseStart - (Number(held.lease_expires_at) - LEASE_MS)} ms into the dead worker's lease`);
        assert.ok(recoveryMs < LEASE_MS / 4, `recovery took ${recoveryMs} ms`);

        await second.waitForLog('the request to finish', (r) => r.correlationId === id && (r.msg === 'migration finished' || r.msg === 'migration failed'), { stallMs: STALL_MS, from: 0 });
        // Stopped first: the attempt row is closed just after the finish line.
        assert.deepEqual(await stopWorker(second), { code: 0, signal: null });
        const done = await db.kysely.selectFrom('migration_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        assert.deepEqual([done.state, done.invites_update, done.failed_meeting, done.lease_owner, done.lease_host, done.lease_pid], ['Succeeded', MEETINGS, 0, null, null, null], done.last_message);
        assert.deepEqual(await attempts(db, id), [[firstId, 'Abandoned'], [secondId, 'Succeeded']]);
        const ledger = await db.kysely.selectFrom('migration_meetings').select(['uid', 'action']).where('correlation_id', '=', id).execute();
        assert.equal(new Set(ledger.map((r) => r.uid)).size, MEETINGS);
        assert.ok(ledger.length === MEETINGS && ledger.every((r) => r.action === 'Updated'), JSON.stringify(ledger));
        const outbox = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('correlation_id', '=', id).executeTakeFirstOrThrow();
        assert.equal(Number(outbox.n), MEETINGS * 4, 'one notification per attendee per meeting');
      } finally {
        await killAllWorkers();
        await drop();
      }
    });
  });

  describe(`${t.name}: which leases a worker takes back before they expire`, { skip: t.skip || (process.platform !== 'linux' ? 'reads /proc' : undefined) }, () => {
    it('takes a lease of a dead pid on this host at once, closing the dead attempt Abandoned and counting it', () =>
      withClaimed(t, async (q, id, setHolder) => {
        await setHolder({ ...currentHolder(), pid: await deadPid() });
        assert.equal(await q.worker('worker-b', { leaseMs: HOUR }).runOnce(), true, 'taken back at once');
        assert.equal((await q.row(id)).state, 'Succeeded');
        assert.deepEqual(await attempts(q.db, id), [['worker-a', 'Abandoned'], ['worker-b', 'Succeeded']]);
      }));

    it('leaves a lease held on another host to expire, even with a pid that does not run here', () =>
      withClaimed(t, async (q, id, setHolder) => {
        await setHolder({ ...currentHolder(), host: `not-${os.hostname()}`, pid: await deadPid() });
        const b = q.worker('worker-b', { leaseMs: HOUR });
        assert.equal(await b.runOnce(), false, 'a remote lease waits for its expiry');
        assert.deepEqual([(await q.row(id)).lease_owner], ['worker-a']);
        await q.ageLeases(HOUR + MINUTE);
        assert.equal(await b.runOnce(), true);
        assert.deepEqual(await attempts(q.db, id), [['worker-a', 'Abandoned'], ['worker-b', 'Succeeded']]);
      }));

    it('leaves the lease of a live process with its start time alone, and takes it when the pid has another start time (pid reuse)', () =>
      withClaimed(t, async (q, id, setHolder) => {
        const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
        try {
          const live = liveHolder(child);
          await setHolder(live);
          const b = q.worker('worker-b', { leaseMs: HOUR });
          assert.equal(await b.runOnce(), false, 'a live holder keeps its lease');
          await setHolder(currentHolder());
          assert.equal(await b.runOnce(), false, 'this very process keeps its lease');
          const ticks = Number(live.start.split(':').pop());
          await setHolder({ ...live, start: live.start.replace(/\d+$/, String(ticks + 1)) });
          assert.equal(await b.runOnce(), true, 'the pid belongs to another process now: taken back');
          assert.equal((await q.row(id)).state, 'Succeeded');
          assert.deepEqual(await attempts(q.db, id), [['worker-a', 'Abandoned'], ['worker-b', 'Succeeded']]);
        } finally {
          child.kill('SIGKILL');
        }
      }));

    it('counts the dead attempts: a request whose holders keep dying ends Failed after maxAttempts claims, at once', () =>
      withClaimed(t, async (q, id, setHolder) => {
        await setHolder({ ...currentHolder(), pid: await deadPid() });
        const [again] = await claimRequests(q.db, 'worker-b', REF + DELAY, HOUR, 1, undefined, 2);
        assert.equal(again?.attempt, 2);
        await setHolder({ ...currentHolder(), pid: await deadPid() });
        assert.deepEqual(await claimRequests(q.db, 'worker-c', REF + DELAY, HOUR, 1, undefined, 2), []);
        const row = await q.row(id);
        assert.deepEqual([row.state, row.lease_owner, row.lease_pid], ['Failed', null, null]);
        assert.match(row.last_message, /^gave up after 2 attempts/);
        assert.deepEqual(await attempts(q.db, id), [['worker-a', 'Abandoned'], ['worker-b', 'Abandoned']]);
      }));
  });
}

/**
 * Amy's request claimed by worker-a (in this process, with an hour's lease) on the test's clock; `setHolder`
 * makes the row name another holder, as a worker process elsewhere would have.
 */
async function withClaimed(database: TestDatabase, fn: (q: QueueFixture, id: string, setHolder: (h: LeaseHolder) => Promise<void>) => Promise<void>): Promise<void> {
  let now = REF;
  const q = await queueFixture(database, () => now);
  try {
    await q.schedule('amy', 2);
    const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
    const id = change.correlationId;
    assert.ok(id);
    now = REF + DELAY;
    const [claimed] = await claimRequests(q.db, 'worker-a', now, HOUR);
    assert.equal(claimed?.correlationId, id);
    const row = await q.row(id);
    const me = currentHolder();
    assert.deepEqual([row.lease_host, row.lease_pid, row.lease_pid_start], [me.host, me.pid, me.start], 'the claim records this process as the holder');
    await fn(q, id, async (h) => {
      await q.db.kysely.updateTable('migration_requests').set({ lease_host: h.host, lease_pid: h.pid, lease_pid_start: h.start }).where('id', '=', id).execute();
    });
  } finally {
    await q.drop();
  }
}

/** The pid of a process that ran and is gone (reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid);
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

/** A running child as a lease holder: its pid and its start time read from /proc, like its own claim would record. */
function liveHolder(child: ChildProcess): LeaseHolder {
  const pid = child.pid;
  assert.ok(pid);
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  const me = currentHolder();
  assert.match(me.start, /^linux:/);
  return { host: me.host, pid, start: me.start.replace(/\d+$/, String(ticks)) };
}
