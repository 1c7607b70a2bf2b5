// The migration queue end to end on a real database with the test's own clock: the delay after the last trigger,
// coalescing a burst of admin changes into one round of updates, follow-up requests behind a running one, retries
// with exponential backoff and jitter, permanent failures, leases reclaimed from a dead worker, a SIGTERM-style
// stop, and pruning of old history.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { MIGRATION_DELAY_MS as DELAY } from './helpers/directory-fixture.js';
import { DAY, HOUR, MINUTE, REF, SECOND, onInsertInto, oncePerAttendee, withQueue, required } from './helpers/queue-fixture.js';
import { moveUser, setDialInUser, setLicense } from '../src/directory/index.js';
import { DEFAULT_RETRY, startMigration, type MigrationWorker } from '../src/migration/index.js';
import { claimRequests } from '../src/store/queue-repo.js';
import { loadConfig } from '../src/config.js';
import type { Db } from '../src/store/index.js';

const reasons = (row: { trigger_reasons: string }): string[] => JSON.parse(row.trigger_reasons) as string[];
const unfold = (ics: string): string => ics.replace(/\r\n[ \t]/g, '');

/** The error the database gives when the outbox table is missing. */
function missingOutbox(database: TestDatabase): string {
  return database.name === 'sqlite' ? 'no such table: outbox' : 'relation "outbox" does not exist';
}

/** Takes the outbox table away (a migration writes to it in every batch), or puts it back. */
async function hideOutbox(db: Db): Promise<void> {
  await db.kysely.schema.alterTable('outbox').renameTo('outbox_hidden').execute();
}
async function restoreOutbox(db: Db): Promise<void> {
  await db.kysely.schema.alterTable('outbox_hidden').renameTo('outbox').execute();
}

/** Worker attempts of one request (or all), oldest first: [worker, outcome]. */
async function attempts(db: Db, correlationId?: string): Promise<Array<[string, string | null]>> {
  let q = db.kysely.selectFrom('migration_attempts').select(['worker_id', 'outcome']).orderBy('id');
  if (correlationId) q = q.where('correlation_id', '=', correlationId);
  return (await q.execute()).map((r) => [r.worker_id, r.outcome]);
}

/** The ledger: [correlation, uid, action] per meeting row, in write order. */
async function ledger(db: Db, correlationId?: string): Promise<Array<[string, string, string]>> {
  let q = db.kysely.selectFrom('migration_meetings').select(['correlation_id', 'uid', 'action']).orderBy('id');
  if (correlationId) q = q.where('correlation_id', '=', correlationId);
  return (await q.execute()).map((r) => [r.correlation_id, r.uid, r.action]);
}

for (const database of TEST_DATABASES) {
  describe(`${database.name}: migration queue, the delay`, { skip: database.skip }, () => {
    it('a triggered request is not claimable before its NotBefore and is claimed and run at it', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        const worker = q.worker('worker-1');
        assert.equal((await q.row(id)).not_before, REF + DELAY);

        t = REF + DELAY - 1;
        assert.equal(await worker.runOnce(), false);
        assert.equal((await q.row(id)).state, 'Pending');

        t = REF + DELAY;
        assert.equal(await worker.runOnce(), true);
        const row = await q.row(id);
        assert.deepEqual([row.state, row.modified_date, row.lease_owner, row.lease_expires_at, row.invites_update], ['Succeeded', REF + DELAY, null, null, 2]);
        assert.equal(await worker.runOnce(), false, 'nothing is left to run');
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
      });
    });

    it('Start-CsExMeetingMigration queues several users at once, runnable immediately and without the delay', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 2);
        const r = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com,gus@contoso.com', '--json']);
        assert.equal(r.stderr, '');
        assert.equal(r.code, 0);
        const out = JSON.parse(r.stdout) as Array<{ Identity: string; Status: string; CorrelationId: string; Note: string }>;
        assert.deepEqual(out.map((x) => [x.Identity, x.Status, x.Note]), [
          ['amy@contoso.com', 'Queued', 'runs as soon as a worker is free'],
          ['gus@contoso.com', 'Queued', 'runs as soon as a worker is free'],
        ]);
        for (const x of out) {
          const row = await q.row(x.CorrelationId);
          assert.deepEqual([row.state, row.create_date, row.not_before, reasons(row)], ['Pending', REF, REF, ['ManualStart']]);
        }

        const worker = q.worker('worker-1');
        assert.equal(await worker.drain(), 2, 'both run at the time they were queued');
        const [amy, gus] = await Promise.all(out.map((x) => q.row(x.CorrelationId)));
        assert.deepEqual([amy?.state, amy?.last_message], ['Succeeded', '0 updated, 2 already current, 0 skipped']);
        assert.deepEqual([gus?.state, gus?.last_message], ['Succeeded', '0 updated, 0 already current, 0 skipped']);
        assert.deepEqual(await q.notices(), new Map(), 'meetings already current are not announced again');
      });
    });

    it('Start-CsExMeetingMigration merges into a request still waiting and makes it runnable now', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 1);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        t = REF + SECOND;
        const r = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '--json']);
        assert.equal(r.code, 0, r.stderr);
        const [out] = JSON.parse(r.stdout) as Array<{ Status: string; CorrelationId: string }>;
        assert.deepEqual([out?.Status, out?.CorrelationId], ['Queued (merged)', change.correlationId]);
        const row = await q.row(required(change.correlationId, 'a queued request'));
        assert.deepEqual([row.state, row.not_before, reasons(row)], ['Pending', REF + SECOND, ['ConferenceIdChanged', 'ManualStart']]);
        assert.equal(await q.worker('worker-1').runOnce(), true);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
      });
    });

    it('the defaults are a 5-second delay, 150 days of history and 9 attempts', () => {
      const config = loadConfig({});
      assert.deepEqual([config.migrationDelayMs, config.historyDays, config.retryAttempts, config.retryBaseMs], [5_000, 150, 9, 340_000]);
      assert.deepEqual(DEFAULT_RETRY, { maxAttempts: 9, baseMs: 340_000 });
      // Nine attempts, eight waits that double: about 24 hours in all, as the reference service's retries.
      const span = Array.from({ length: 8 }, (_, k) => DEFAULT_RETRY.baseMs * 2 ** k).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(span - 24 * 60 * MINUTE) < 15 * MINUTE, `${span / 3_600_000} hours`);
    });
  });

  describe(`${database.name}: migration queue, coalescing a burst`, { skip: database.skip }, () => {
    it('Move-CsUser then licence, bridge and conference ID changes give one request listing the four kinds and one round of updates', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('cara', 3);
        const worker = q.worker('worker-1');
        const moved = await moveUser(q.ctx, q.tenantId, q.upn('cara'), 'Online');
        t = REF + 2 * SECOND;
        const licensed = await setLicense(q.ctx, q.tenantId, q.upn('cara'), { add: ['AudioConferencing'] });
        t = REF + 4 * SECOND;
        const bridged = await setDialInUser(q.ctx, q.tenantId, q.upn('cara'), { bridgeName: 'Contoso EU' });
        t = REF + 5 * SECOND;
        assert.equal(await worker.runOnce(), false, 'the first trigger\'s delay is over, but the wait runs from the last one');
        t = REF + 6 * SECOND;
        const renumbered = await setDialInUser(q.ctx, q.tenantId, q.upn('cara'), { conferenceId: '4242424' });
        const id = required(moved.correlationId, 'a queued request');
        assert.deepEqual([licensed, bridged, renumbered].map((o) => [o.correlationId, o.coalesced]), [[id, true], [id, true], [id, true]]);

        t = REF + 6 * SECOND + DELAY - 1;
        assert.equal(await worker.runOnce(), false);
        t = REF + 6 * SECOND + DELAY;
        assert.equal(await worker.runOnce(), true);
        assert.equal(await worker.runOnce(), false);
        t += DAY;
        assert.equal(await worker.runOnce(), false, 'one round, not four');

        const rows = await q.rowsOf('cara');
        assert.deepEqual(rows.map((r) => [r.id, r.state, r.create_date, r.invites_update]), [[id, 'Succeeded', REF, 3]]);
        assert.deepEqual(reasons(rows[0]!), ['UserMovedOnline', 'LicenseAssigned', 'BridgeChanged', 'ConferenceIdChanged']);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids), 'exactly one notification per attendee per meeting');
        assert.deepEqual(await ledger(q.db), uids.map((uid) => [id, uid, 'Updated']));
        const copies = await q.organizerCopies('cara');
        assert.deepEqual(uids.map((uid) => copies.get(uid)?.version), [2, 2, 2], 'each meeting rewritten once');
        for (const uid of uids) {
          const ics = unfold(copies.get(uid)?.ics ?? '');
          assert.match(ics, /^CONFERENCE;VALUE=URI;FEATURE=PHONE;LABEL=London \(Toll\):tel:\+442075550100,,4242424%23$/m);
          assert.match(ics, /^LOCATION:https:\/\/meet\.contoso\.com\/cara\//m);
        }
        const benCopies = await q.organizerCopies('ben');
        for (const uid of uids) assert.match(unfold(benCopies.get(uid)?.ics ?? ''), /tel:\+442075550100,,4242424%23/, "ben's own copy carries the new block");
      });
    });

    it('licence, bridge and conference ID changes made before Move-CsUser, as the docs recommend, give one round of updates with all of them', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('cara', 2);
        await setLicense(q.ctx, q.tenantId, q.upn('cara'), { add: ['AudioConferencing'] });
        t += SECOND;
        await setDialInUser(q.ctx, q.tenantId, q.upn('cara'), { bridgeName: 'Contoso EU' });
        t += SECOND;
        await setDialInUser(q.ctx, q.tenantId, q.upn('cara'), { conferenceId: '4242424' });
        t += SECOND;
        const moved = await moveUser(q.ctx, q.tenantId, q.upn('cara'), 'Online');
        assert.deepEqual((await q.fx.audit('cara')).map((r) => [r.Decision, r.CorrelationId]), [
          ['NoMigration', ''], ['NoMigration', ''], ['NoMigration', ''], ['Migrate', moved.correlationId],
        ]);

        t += DELAY;
        const worker = q.worker('worker-1');
        assert.equal(await worker.drain(), 1);
        const rows = await q.rowsOf('cara');
        assert.deepEqual(rows.map((r) => [r.state, reasons(r), r.invites_update]), [['Succeeded', ['UserMovedOnline'], 2]]);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
        const copies = await q.organizerCopies('cara');
        for (const uid of uids) assert.match(unfold(copies.get(uid)?.ics ?? ''), /^CONFERENCE;VALUE=URI;FEATURE=PHONE;LABEL=London \(Toll\):tel:\+442075550100,,4242424%23$/m);
      });
    });

    it('a trigger while the request is InProgress leaves a follow-up that is not claimable until the first ends, then runs after it', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const first = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id1 = required(first.correlationId, 'a queued request');
        t = REF + DELAY;
        const workerA = q.worker('worker-a');
        const workerB = q.worker('worker-b');
        // What workerA.runOnce() does first: claim. The trigger then lands while the request is InProgress.
        const [claimed] = await claimRequests(q.db, workerA.id, t, 60_000);
        assert.equal(claimed?.correlationId, id1);

        t += SECOND;
        const second = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { bridgeName: 'Contoso EU' });
        const id2 = required(second.correlationId, 'a follow-up request');
        assert.equal(second.coalesced, false);
        assert.notEqual(id2, id1);
        assert.deepEqual((await q.rowsOf('amy')).map((r) => [r.id, r.state, reasons(r), r.not_before]), [
          [id1, 'InProgress', ['ConferenceIdChanged'], REF + DELAY],
          [id2, 'Pending', ['BridgeChanged'], t + DELAY],
        ]);

        t += DELAY;
        assert.equal(await workerB.runOnce(), false, 'the follow-up waits while the first request is InProgress');
        assert.equal((await q.row(id2)).state, 'Pending');

        await workerA.run(required(claimed, 'the claimed request'));
        assert.equal((await q.row(id1)).state, 'Succeeded');
        t += SECOND;
        assert.equal(await workerB.runOnce(), true);
        const [r1, r2] = [await q.row(id1), await q.row(id2)];
        assert.deepEqual([r2.state, r2.last_message], ['Succeeded', '0 updated, 2 already current, 0 skipped']);
        assert.ok(r2.modified_date > r1.modified_date, 'the follow-up ends after the first');
        assert.deepEqual(await attempts(q.db), [['worker-a', 'Succeeded'], ['worker-b', 'Succeeded']]);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids), 'the follow-up announces nothing twice');
      });
    });
  });

  describe(`${database.name}: migration queue, retries and failures`, { skip: database.skip }, () => {
    it('a transient failure goes back to Pending with a doubling, jittered NotBefore, says it will retry, and ends Failed after maxAttempts', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        const draws = [0, 0.25, 0.999];
        let draw = 0;
        const worker = q.worker('worker-1', { retry: { maxAttempts: 4, baseMs: MINUTE }, random: () => draws[draw++] ?? 0.5 });
        const message = missingOutbox(database);
        await hideOutbox(q.db);

        // 1, 2 and 4 minutes, times 0.8 + 0.4 × the draw: the low edge, a bit above it, almost the high edge.
        const waits = [48_000, 108_000, 287_904];
        t = REF + DELAY;
        for (const [i, wait] of waits.entries()) {
          const attempt = i + 1;
          assert.equal(await worker.runOnce(), true);
          const row = await q.row(id);
          const exact = MINUTE * 2 ** i;
          assert.ok(wait >= 0.8 * exact && wait <= 1.2 * exact, `${wait} ms is within ±20 % of ${exact} ms`);
          assert.deepEqual(
            [row.state, row.retry_count, row.not_before, row.lease_owner, row.last_message],
            ['Pending', attempt, t + wait, null, `attempt ${attempt} failed, retrying at ${new Date(t + wait).toISOString()}: ${message}`],
          );
          t = row.not_before - 1;
          assert.equal(await worker.runOnce(), false, `attempt ${attempt + 1} waits for its NotBefore`);
          t = row.not_before;
        }
        assert.equal(await worker.runOnce(), true);
        const row = await q.row(id);
        assert.deepEqual(
          [row.state, row.retry_count, row.lease_owner, row.last_message],
          ['Failed', 4, null, `gave up after 4 attempts: ${message}; fix the cause and run Start-CsExMeetingMigration`],
        );
        t += 30 * DAY;
        assert.equal(await worker.runOnce(), false, 'a Failed request is not retried');

        await restoreOutbox(q.db);
        assert.deepEqual(await attempts(q.db, id), [['worker-1', 'Retry'], ['worker-1', 'Retry'], ['worker-1', 'Retry'], ['worker-1', 'Failed']]);
        assert.deepEqual(await q.notices(), new Map(), 'a failed batch sends nothing');
        assert.deepEqual(await ledger(q.db), []);
        const copies = await q.organizerCopies('amy');
        assert.deepEqual(uids.map((uid) => copies.get(uid)?.version), [1, 1], 'a failed batch rewrites nothing');
        assert.deepEqual(q.log.map((e) => [e.level, e.msg]), [
          ['warn', 'migration attempt failed; will retry'],
          ['warn', 'migration attempt failed; will retry'],
          ['warn', 'migration attempt failed; will retry'],
          ['error', 'migration failed'],
        ]);
      });
    });

    it('a request that fails once and then succeeds keeps RetryCount 1 and updates each meeting once', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        const worker = q.worker('worker-1', { random: () => 0.5 });
        await hideOutbox(q.db);
        t = REF + DELAY;
        assert.equal(await worker.runOnce(), true);
        const failed = await q.row(id);
        assert.deepEqual([failed.state, failed.retry_count, failed.not_before], ['Pending', 1, t + DEFAULT_RETRY.baseMs]);

        await restoreOutbox(q.db);
        t = failed.not_before;
        assert.equal(await worker.runOnce(), true);
        const row = await q.row(id);
        assert.deepEqual([row.state, row.retry_count, row.invites_update, row.last_message], ['Succeeded', 1, 2, '2 updated, 0 already current, 0 skipped']);
        assert.deepEqual(await attempts(q.db, id), [['worker-1', 'Retry'], ['worker-1', 'Succeeded']]);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
        const copies = await q.organizerCopies('amy');
        assert.deepEqual(uids.map((uid) => copies.get(uid)?.version), [2, 2]);
      });
    });

    it('with the defaults a transiently failing request is tried 9 times over about 24 hours, each wait double the last', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        const worker = q.worker('worker-1', { random: () => 0.5 }); // 0.5: no jitter, the exact schedule
        await hideOutbox(q.db);
        t = REF + DELAY;
        const firstAttempt = t;
        const waits: number[] = [];
        for (let n = 0; n < 20; n++) {
          assert.equal(await worker.runOnce(), true);
          const row = await q.row(id);
          if (row.state !== 'Pending') break;
          waits.push(row.not_before - t);
          t = row.not_before;
        }
        const row = await q.row(id);
        assert.deepEqual([row.state, row.retry_count, waits.length + 1], ['Failed', 9, 9]);
        assert.deepEqual(waits.slice(1).map((w, i) => w / waits[i]!), [2, 2, 2, 2, 2, 2, 2]);
        const hours = (t - firstAttempt) / HOUR;
        assert.ok(hours >= 20 && hours <= 28, `the 9 attempts span ${hours} hours; MMS retries over about 24 hours`);
        await restoreOutbox(q.db);
      });
    });

    it('a permanent error (the mailbox moved on-premises after queueing) fails at once with a message naming manual migration', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        // Exchange moved the mailbox; no MMS cmdlet does that, the directory sync writes it.
        await q.db.kysely.updateTable('users').set({ mailbox_location: 'OnPremises' }).where('id', '=', await q.userId('amy')).execute();
        const worker = q.worker('worker-1');
        t = REF + DELAY;
        assert.equal(await worker.runOnce(), true);
        const row = await q.row(id);
        assert.deepEqual([row.state, row.retry_count, row.not_before, row.lease_owner], ['Failed', 1, REF + DELAY, null]);
        assert.equal(
          row.last_message,
          "the mailbox of amy@contoso.com is on-premises, out of MMS's reach: use manual migration (Invoke-MmsMeetingMigrationTool, the Meeting Migration Tool) or move the mailbox online, then run Start-CsExMeetingMigration",
        );
        t += 2 * DAY;
        assert.equal(await worker.runOnce(), false, 'no retry fixes it');
        assert.deepEqual(await attempts(q.db, id), [['worker-1', 'Failed']]);
        assert.deepEqual(q.log.map((e) => [e.level, e.msg]), [['error', 'migration failed']]);
        assert.deepEqual(await q.notices(), new Map());
        const copies = await q.organizerCopies('amy');
        assert.deepEqual(uids.map((uid) => copies.get(uid)?.version), [1, 1]);
      });
    });

    it('a transient failure while a follow-up request waits leaves nothing InProgress and keeps both reasons queued', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const first = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id1 = required(first.correlationId, 'a queued request');
        t = REF + DELAY;
        const workerA = q.worker('worker-a');
        const [claimed] = await claimRequests(q.db, workerA.id, t, 60_000);
        t += SECOND;
        const second = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { bridgeName: 'Contoso EU' });
        const id2 = required(second.correlationId, 'a follow-up request');
        await hideOutbox(q.db);
        await workerA.run(required(claimed, 'the claimed request'));

        const rows = await q.rowsOf('amy');
        assert.deepEqual(
          rows.filter((r) => r.state === 'InProgress').map((r) => [r.id, r.lease_owner, r.lease_expires_at]),
          [],
          `the failed attempt must not stay InProgress under a live lease (request ${id1}; follow-up ${id2})`,
        );
        const pending = rows.filter((r) => r.state === 'Pending');
        assert.deepEqual(pending.map((r) => reasons(r).sort()), [['BridgeChanged', 'ConferenceIdChanged']]);
        // The failed attempt is on record, and says which request carries the retry; that one says when it runs.
        const failed = rows.filter((r) => r.state === 'Failed');
        assert.deepEqual(failed.map((r) => r.id), [id1]);
        assert.ok(failed[0]?.last_message.includes(missingOutbox(database)), failed[0]?.last_message);
        assert.match(failed[0]?.last_message ?? '', new RegExp(`the retry runs as the user's newer request ${id2}`));
        assert.match(pending[0]?.last_message ?? '', /^attempt 1 failed, retrying at \d{4}-\d\d-\d\dT/);
        assert.ok((pending[0]?.not_before ?? 0) >= t, 'the retry waits for its backoff');

        await restoreOutbox(q.db);
        t += DAY;
        await q.worker('worker-b').drain();
        assert.deepEqual((await q.rowsOf('amy')).filter((r) => r.state === 'Pending' || r.state === 'InProgress').map((r) => r.id), []);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
      });
    });
  });

  describe(`${database.name}: migration queue, leases and shutdown`, { skip: database.skip }, () => {
    it('a request whose worker died is reclaimed by another worker once the lease expires, and the dead worker writes nothing when it wakes', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 2);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        const lease = HOUR;
        t = REF + DELAY;
        // worker-a claims the request and dies before doing anything else.
        const before = await q.leaseClock();
        const [claimed] = await claimRequests(q.db, 'worker-a', t, lease);
        const after = await q.leaseClock();
        const held = await q.row(id);
        assert.deepEqual([held.state, held.lease_owner], ['InProgress', 'worker-a']);
        const expires = required(held.lease_expires_at, 'a lease');
        assert.ok(expires >= before + lease && expires <= after + lease, `lease ${expires} not ${lease} ms after the claim [${before}, ${after}]`);

        const workerB = q.worker('worker-b', { leaseMs: lease });
        await q.ageLeases(lease - 10 * MINUTE);
        assert.equal(await workerB.runOnce(), false, 'the lease is still live');
        await q.ageLeases(20 * MINUTE);
        assert.equal(await workerB.runOnce(), true);
        const done = await q.row(id);
        assert.deepEqual([done.state, done.lease_owner, done.lease_expires_at, done.invites_update], ['Succeeded', null, null, 2]);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));

        t += MINUTE;
        const workerA = q.worker('worker-a', { leaseMs: lease });
        await workerA.run(required(claimed, 'the claimed request'));
        const later = await q.row(id);
        assert.deepEqual(
          [later.state, later.modified_date, later.invites_update, later.last_message],
          ['Succeeded', done.modified_date, 2, '2 updated, 0 already current, 0 skipped'],
        );
        assert.deepEqual(await q.notices(), oncePerAttendee(uids), 'the woken worker announces nothing again');
        // Attempts are recorded at the claim: worker-a's first, then worker-b's.
        assert.deepEqual(await attempts(q.db, id), [['worker-a', 'LeaseLost'], ['worker-b', 'Succeeded']]);
        assert.deepEqual(q.log.filter((e) => e.level === 'warn').map((e) => e.msg), ['lease lost to another worker; leaving the request to it']);
      });
    });

    if (database.name === 'sqlite') {
      it('on SQLite a lease is live up to its expiry instant on the workers\' shared clock and expired one millisecond later', () => {
        let t = REF;
        return withQueue(database, () => t, async (q) => {
          await q.schedule('amy', 1);
          const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
          const id = required(change.correlationId, 'a queued request');
          t = REF + DELAY;
          const claimedAt = t;
          await claimRequests(q.db, 'worker-a', t, 30 * SECOND);
          assert.equal((await q.row(id)).lease_expires_at, claimedAt + 30 * SECOND);
          const workerB = q.worker('worker-b', { leaseMs: 30 * SECOND });
          t = claimedAt + 30 * SECOND;
          assert.equal(await workerB.runOnce(), false, 'the lease is still live at its expiry instant');
          t += 1;
          assert.equal(await workerB.runOnce(), true);
          assert.equal((await q.row(id)).state, 'Succeeded');
        });
      });
    }

    it('stop() while a request is being worked finishes the batch in hand, gives the request back to Pending and claims nothing more', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 3);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id = required(change.correlationId, 'a queued request');
        t = REF + DELAY;
        let worker: MigrationWorker | undefined;
        // SIGTERM arrives while the first meeting is being recorded, in its batch's write transaction (mms serve calls
        // stop()). The ledger insert, not the outbox's: on PostgreSQL the outbox rows go in as a raw statement
        // (store/bulk-insert.ts), which a query-builder plugin cannot tell from another.
        const db = onInsertInto(q.db, 'migration_meetings', () => void worker?.stop());
        worker = q.worker('worker-1', { db, batchSize: 1 });
        const safety = setTimeout(() => void worker?.stop(), 10_000);
        await worker.start();
        clearTimeout(safety);

        const row = await q.row(id);
        assert.deepEqual(
          [row.state, row.lease_owner, row.lease_expires_at, row.not_before, row.total_meeting, row.succeeded_meeting, row.invites_update],
          ['Pending', null, null, t, 3, 1, 1],
        );
        assert.deepEqual(await q.notices(), oncePerAttendee(uids.slice(0, 1)), 'the batch in hand was finished');
        assert.deepEqual(await attempts(q.db, id), [['worker-1', 'Released']]);
        assert.equal(await worker.drain(), 0, 'a stopped worker claims nothing');
        assert.equal((await q.row(id)).state, 'Pending');

        assert.equal(await q.worker('worker-2', { batchSize: 1 }).drain(), 1);
        const done = await q.row(id);
        assert.deepEqual([done.state, done.invites_update, done.last_message], ['Succeeded', 3, '3 updated, 0 already current, 0 skipped']);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids), 'the meeting done before the stop is not announced twice');
      });
    });

    it('stop() while a follow-up request waits hands the rest of the work to the follow-up, with both reasons, runnable now', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const uids = await q.schedule('amy', 3);
        const first = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const id1 = required(first.correlationId, 'a queued request');
        t = REF + DELAY;
        let worker: MigrationWorker | undefined;
        const db = onInsertInto(q.db, 'migration_meetings', () => void worker?.stop());
        worker = q.worker('worker-1', { db, batchSize: 1 });
        const [claimed] = await claimRequests(q.db, worker.id, t, 60_000);
        t += SECOND;
        const second = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { bridgeName: 'Contoso EU' });
        const id2 = required(second.correlationId, 'a follow-up request');
        await worker.run(required(claimed, 'the claimed request'));

        const [r1, r2] = [await q.row(id1), await q.row(id2)];
        assert.deepEqual(
          [r1.state, r1.lease_owner, r1.last_message],
          ['Failed', null, `stopped at shutdown; the user's newer request ${id2} finishes the work`],
        );
        assert.deepEqual([r2.state, reasons(r2), r2.not_before], ['Pending', ['ConferenceIdChanged', 'BridgeChanged'], t]);

        assert.equal(await q.worker('worker-2').drain(), 1);
        const done = await q.row(id2);
        assert.deepEqual([done.state, done.last_message], ['Succeeded', '2 updated, 1 already current, 0 skipped']);
        assert.deepEqual(await q.notices(), oncePerAttendee(uids));
      });
    });
  });

  describe(`${database.name}: migration history`, { skip: database.skip }, () => {
    it("the worker prunes finished requests and their ledger rows older than MMS_HISTORY_DAYS and keeps newer and Pending ones", () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 2, { firstStart: REF + 7 * DAY });
        await q.schedule('ben', 1, { firstStart: REF + 7 * DAY, attendees: ['amy@contoso.com'] });
        const start = async (name: string) => {
          const [r] = await startMigration(q.db, q.fx.tenant, [q.upn(name)], { actor: 'admin@contoso.com', now: () => t });
          assert.equal(r?.status, 'Queued');
          return r?.status === 'Queued' ? r.correlationId : '';
        };
        const runner = q.worker('worker-0');
        const amy = await start('amy');
        const gus = await start('gus');
        const dan = await start('dan'); // stays Pending throughout
        await q.db.kysely.updateTable('users').set({ mailbox_location: 'OnPremises' }).where('id', '=', await q.userId('gus')).execute();
        assert.equal(await runner.runOnce([amy]), true);
        assert.equal(await runner.runOnce([gus]), true);
        t = REF + 2 * DAY;
        const ben = await start('ben');
        assert.equal(await runner.runOnce([ben]), true);
        assert.deepEqual(await Promise.all([amy, gus, ben, dan].map(async (id) => (await q.row(id)).state)), ['Succeeded', 'Failed', 'Succeeded', 'Pending']);
        assert.deepEqual((await ledger(q.db)).map(([c]) => c), [amy, amy, ben]);
        await q.fx.settings({ meetingMigrationEnabled: false }); // keeps dan's request Pending while the service runs

        // 151 days after the first two ended, 149 after ben's: the service starts, prunes once, and is stopped.
        t = REF + 151 * DAY;
        const worker = q.worker('worker-1');
        const running = worker.start();
        await worker.stop();
        await running;

        const left = await q.db.kysely.selectFrom('migration_requests').select(['id', 'state']).orderBy('create_date').orderBy('id').execute();
        assert.deepEqual(left.map((r) => r.id).sort(), [ben, dan].sort());
        assert.deepEqual((await ledger(q.db)).map(([c]) => c), [ben]);
        assert.deepEqual((await attempts(q.db)).length, 1);
        assert.deepEqual(await attempts(q.db, ben), [['worker-0', 'Succeeded']]);
        assert.deepEqual(q.log.filter((e) => e.msg === 'pruned migration history').map((e) => e.obj), [{ removed: 2, days: 150 }]);
      });
    });
  });
}
