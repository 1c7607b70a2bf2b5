// The queue's rules on every path (issue 6 §6): attempts counted at the claim, so a request whose worker dies each
// time ends Failed; leases judged by the database's clock on PostgreSQL; a lease renewed while a long batch runs;
// and `Start-CsExMeetingMigration -Wait`, which never waits for ever and runs requests with the configured settings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { MIGRATION_DELAY_MS as DELAY } from './helpers/directory-fixture.js';
import { DAY, HOUR, MINUTE, REF, oncePerAttendee, withQueue, required } from './helpers/queue-fixture.js';
import { setDialInUser } from '../src/directory/index.js';
import { claimRequests } from '../src/store/queue-repo.js';
import { loadConfig, workerSettings } from '../src/config.js';
import type { Db } from '../src/store/index.js';

async function attempts(db: Db, correlationId: string): Promise<Array<[string, string | null]>> {
  const rows = await db.kysely.selectFrom('migration_attempts').select(['worker_id', 'outcome']).where('correlation_id', '=', correlationId).orderBy('id').execute();
  return rows.map((r) => [r.worker_id, r.outcome]);
}

/** Takes the outbox table away (every batch writes to it): each attempt fails with a transient error. */
const hideOutbox = (db: Db) => db.kysely.schema.alterTable('outbox').renameTo('outbox_hidden').execute();

/** Waits for `check` to return a value, looking every few milliseconds (the test's time limit bounds it). */
async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const GIVE_UP = 'the worker stopped each time before finishing (out of memory or a crash?); check the service log, fix the cause and run Start-CsExMeetingMigration';

for (const database of TEST_DATABASES) {
  describe(`${database.name}: queue rules, attempts are counted at the claim`, { skip: database.skip }, () => {
    it('a request whose worker dies every time ends Failed after the configured attempts instead of being reclaimed for ever', { timeout: 60_000 }, () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        t = REF + DELAY;
        // Three workers claim it in turn and die (out of memory, a native crash): no error is ever recorded.
        for (const n of [1, 2, 3]) {
          const [claimed] = await claimRequests(q.db, `worker-${n}`, t, MINUTE, 1, undefined, 3);
          assert.deepEqual([claimed?.correlationId, claimed?.attempt], [id, n], `claim ${n}`);
          await q.ageLeases(2 * MINUTE);
        }
        const worker = q.worker('worker-4', { retry: { maxAttempts: 3, baseMs: MINUTE } });
        assert.equal(await worker.runOnce(), false, 'the request is not claimed a fourth time');
        const row = await q.row(id);
        assert.deepEqual([row.state, row.lease_owner, row.lease_expires_at, row.last_message], ['Failed', null, null, `gave up after 3 attempts: ${GIVE_UP}`]);
        assert.deepEqual(await attempts(q.db, id), [['worker-1', 'Abandoned'], ['worker-2', 'Abandoned'], ['worker-3', 'Abandoned']]);
        assert.deepEqual(await q.notices(), new Map());
      });
    });

    it('a death and then thrown errors count together: two deaths and one failure end Failed at three attempts', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        t = REF + DELAY;
        for (const n of [1, 2]) {
          await claimRequests(q.db, `worker-${n}`, t, MINUTE, 1, undefined, 3);
          await q.ageLeases(2 * MINUTE);
        }
        await hideOutbox(q.db);
        assert.equal(await q.worker('worker-3', { retry: { maxAttempts: 3, baseMs: MINUTE } }).runOnce(), true);
        const row = await q.row(id);
        assert.equal(row.state, 'Failed');
        assert.match(row.last_message, /^gave up after 3 attempts: /);
        assert.deepEqual(await attempts(q.db, id), [['worker-1', 'Abandoned'], ['worker-2', 'Abandoned'], ['worker-3', 'Failed']]);
      });
    });

    it('a request given back at shutdown is not charged an attempt', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 1);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        t = REF + DELAY;
        for (const n of [1, 2, 3]) {
          const stopping = q.worker(`worker-${n}`, { retry: { maxAttempts: 2, baseMs: MINUTE } });
          const [claimed] = await claimRequests(q.db, stopping.id, t, MINUTE, 1, undefined, 2);
          await stopping.stop();
          await stopping.run(required(claimed, 'a claim'));
          assert.equal((await q.row(id)).state, 'Pending', `give-back ${n}`);
        }
        assert.equal(await q.worker('worker-4', { retry: { maxAttempts: 2, baseMs: MINUTE } }).runOnce(), true);
        assert.equal((await q.row(id)).state, 'Succeeded');
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
      });
    });
  });

  describe(`${database.name}: queue rules, the lease clock`, { skip: database.skip }, () => {
    if (database.name === 'postgres') {
      it("on PostgreSQL a lease is judged by the database's clock: a worker whose clock runs a day ahead does not take a live lease, one a day behind takes an expired one", () => {
        let t = REF;
        return withQueue(database, () => t, async (q) => {
          await q.schedule('amy', 1);
          const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
          const id = required(change.correlationId, 'a queued request');
          t = REF + DELAY;
          await claimRequests(q.db, 'worker-a', t, HOUR);
          const ahead = REF + DELAY + DAY;
          const [stolen] = await claimRequests(q.db, 'worker-fast-clock', ahead, HOUR);
          assert.equal(stolen, undefined, 'a live lease was taken over by a worker whose clock runs ahead');
          assert.equal((await q.row(id)).lease_owner, 'worker-a');

          await q.ageLeases(2 * HOUR);
          const behind = REF + DELAY - DAY;
          const [taken] = await claimRequests(q.db, 'worker-slow-clock', behind, HOUR);
          assert.equal(taken?.correlationId, id, 'an expired lease was not taken over by a worker whose clock runs behind');
          const row = await q.row(id);
          const dbNow = await q.leaseClock();
          assert.ok(required(row.lease_expires_at, 'a lease') > dbNow, 'the new lease runs on the database clock');
        });
      });
    } else {
      it('on SQLite leases are judged by the clock the workers on its one machine share', () => {
        let t = REF;
        return withQueue(database, () => t, async (q) => {
          await q.schedule('amy', 1);
          const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
          const id = required(change.correlationId, 'a queued request');
          t = REF + DELAY;
          await claimRequests(q.db, 'worker-a', t, HOUR);
          assert.equal((await q.row(id)).lease_expires_at, t + HOUR);
          const [taken] = await claimRequests(q.db, 'worker-b', t + HOUR + 1, HOUR);
          assert.equal(taken?.correlationId, id);
        });
      });
    }
  });

  describe(`${database.name}: queue rules, lease renewal`, { skip: database.skip }, () => {
    it('the lease is renewed while a long batch runs, not only between batches', { timeout: 60_000 }, () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        t = REF + DELAY;
        let renewedDuringBatch = false;
        const worker = q.worker('worker-1', {
          leaseMs: 10 * MINUTE,
          renewEveryMs: 5,
          // The batch takes long: it waits, mid-way, until the lease has been renewed.
          beforeWrite: async () => {
            if (renewedDuringBatch) return;
            const held = required((await q.row(id)).lease_expires_at, 'a lease');
            t += 5 * MINUTE;
            await until(async () => (required((await q.row(id)).lease_expires_at, 'a lease') > held ? true : undefined));
            renewedDuringBatch = true;
          },
        });
        assert.equal(await worker.runOnce(), true);
        assert.equal(renewedDuringBatch, true, 'the batch never ran');
        const row = await q.row(id);
        assert.deepEqual([row.state, row.invites_update], ['Succeeded', 2]);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
        assert.deepEqual(q.log.filter((e) => e.level !== 'info'), [], 'the lease was never lost');
      });
    });
  });

  describe(`${database.name}: queue rules, Start-CsExMeetingMigration -Wait`, { skip: database.skip }, () => {
    it('-Wait with migration turned off for the tenant says so and exits 1 instead of waiting for ever', { timeout: 60_000 }, () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        const off = await q.cli(['Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled', '$false']);
        assert.equal(off.code, 0, off.stderr);
        const r = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-Wait']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^mms: request [0-9a-f-]+ cannot run: MeetingMigrationEnabled is false for this tenant; turn it on with Set-CsTenantMigrationConfiguration -MeetingMigrationEnabled \$true \(the request stays queued\)\n$/);
      });
    });

    it('-Wait when the next retry is minutes or hours away says when and exits 1, using the configured retry base', { timeout: 60_000 }, () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        await hideOutbox(q.db);
        const r = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-Wait'], { MMS_RETRY_BASE: '1h' });
        assert.equal(r.code, 1);
        const m = /^mms: request ([0-9a-f-]+) waits for a retry at (\S+) \(attempt 1 failed, retrying at \2: .+\); mms serve runs it then, or run Start-CsExMeetingMigration -Wait again after that time\n$/.exec(r.stderr);
        assert.ok(m, r.stderr);
        const wait = Date.parse(m[2] ?? '') - t;
        assert.ok(wait >= 0.8 * HOUR && wait <= 1.2 * HOUR, `the retry is ${wait} ms away, not about MMS_RETRY_BASE=1h`);
        const row = await q.row(m[1] ?? '');
        assert.deepEqual([row.state, row.retry_count, row.lease_owner], ['Pending', 1, null]);
      });
    });

    it('-Wait runs with the configured attempts: with MMS_RETRY_ATTEMPTS=1 a failing request ends Failed at once', { timeout: 60_000 }, () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        await hideOutbox(q.db);
        const r = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-Wait', '--json'], { MMS_RETRY_ATTEMPTS: '1' });
        // No progress lines when stderr is not a terminal, and never on stdout: stdout is the JSON alone.
        assert.equal(r.stderr, '');
        const rows = JSON.parse(r.stdout) as Array<{ State: string; LastMessage: string }>;
        assert.equal(rows.length, 1);
        assert.equal(rows[0]?.State, 'Failed');
        assert.match(rows[0]?.LastMessage ?? '', /^gave up after 1 attempts: /);
      });
    });

    it("-Wait behind a request of the same user whose worker died says so and exits 1", { timeout: 60_000 }, () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const dead = required(change.correlationId, 'a queued request');
        t = REF + DELAY;
        await claimRequests(q.db, 'worker-that-died', t, MINUTE);
        await q.ageLeases(2 * MINUTE);
        const r = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-Wait']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`^mms: request [0-9a-f-]+ waits behind the user's request ${dead}, whose worker stopped without finishing it; start the service \\(mms serve\\) to take it over, then run Start-CsExMeetingMigration -Wait again\n$`));
      });
    });

    it('-Wait shows its progress bar on stderr only when stderr is a terminal; stdout holds the result alone', { timeout: 60_000 }, () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 2);
        const r = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-Wait', '--json'], {}, true);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /\rSucceeded  \[#{30}\] 2\/2 meetings {2}[0-9a-f]{8}\n$/);
        assert.equal((JSON.parse(r.stdout) as Array<{ State: string }>)[0]?.State, 'Succeeded');
      });
    });

    it('the service and -Wait take the lease, poll, retry, history and batch settings from the configuration', () => {
      const config = loadConfig({ MMS_LEASE: '90s', MMS_POLL_INTERVAL: '2s', MMS_RETRY_ATTEMPTS: '4', MMS_RETRY_BASE: '10m', MMS_HISTORY_DAYS: '30', MMS_BATCH_SIZE: '7', MMS_SERVICE_ADDRESS: 'svc@contoso.com' });
      assert.deepEqual(workerSettings(config), {
        serviceAddress: 'svc@contoso.com', leaseMs: 90_000, pollMs: 2_000, retry: { maxAttempts: 4, baseMs: 600_000 }, historyDays: 30, batchSize: 7,
      });
    });
  });
}

for (const database of TEST_DATABASES) {
  describe(`${database.name}: queue rules, a claim whose reply was lost`, { skip: database.skip }, () => {
    it('a worker that claims again takes back at once a request leased in its own name (its earlier claim committed unseen)', { timeout: 60_000 }, () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        t = REF + DELAY;
        const [first] = await claimRequests(q.db, 'worker-a', t, HOUR, 1);
        assert.equal(first?.correlationId, id);
        // Another worker must not get it: the lease is live and held by a process that runs.
        assert.deepEqual(await claimRequests(q.db, 'worker-b', t, HOUR, 1), []);
        // worker-a never learned of its claim (the connection died with the reply) and claims again.
        const [again] = await claimRequests(q.db, 'worker-a', t, HOUR, 1);
        assert.deepEqual([again?.correlationId, again?.attempt], [id, 2]);
        assert.deepEqual(await attempts(q.db, id), [['worker-a', 'Abandoned'], ['worker-a', null]]);
      });
    });
  });
}
