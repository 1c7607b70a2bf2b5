// Issue 9 §3: queued migrations that no worker will run must say so. A real `mms serve` worker keeps one heartbeat
// row (migration 011) while it runs and removes it when stopped; the status cmdlet and the trigger cmdlets print one
// warning line on stderr when requests wait and no worker has been seen for max(3 beats, 1 minute), with since when
// and how to start one. The warning never changes stdout (--json stays parseable) or the exit code.
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { runMms } from './helpers/cli-run.js';
import { killAllWorkers, startWorker, stopWorker, waitFor } from './helpers/worker-process.js';
import { beatWorker } from '../src/store/worker-repo.js';

const NOW = Date.parse('2026-11-02T09:00:00Z');
const HOW = 'start one with npm start (or npx mms serve; as a systemd service: sudo systemctl enable --now mms)';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: worker heartbeat and the no-worker warning`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    const env = (delay: string) => ({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: delay, MMS_ACTOR: 'tester' });
    const mms = (now: number, ...argv: string[]) => runMms(env('0'), () => now, argv);
    const heartbeats = () => fresh.db.kysely.selectFrom('worker_heartbeats').selectAll().execute();

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [
        ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsBridge', '-Name', 'US', '-TollNumber', '+14255550100 (Seattle)', '-Default'],
        ...['amy', 'ben', 'cat', 'dan', 'eve'].map((n) => ['New-MmsUser', `${n}@contoso.com`, '-DisplayName', n, '-HostedOn', 'OnPremises']),
      ]) assert.equal((await mms(NOW, ...argv)).code, 0, argv.join(' '));
    });
    after(async () => {
      await killAllWorkers();
      await fresh.drop();
    });

    it('with no worker ever, a trigger and the status each warn once on stderr; stdout and the exit code are unchanged', async () => {
      const moved = await mms(NOW, 'Move-CsUser', '-Identity', 'amy@contoso.com', '-Target', 'Online', '--json');
      assert.equal(moved.code, 0);
      assert.equal(JSON.parse(moved.out).MeetingMigration, 'Queued');
      assert.equal(moved.err, `mms: warning: the 1 request(s) queued wait for a worker, but no mms serve worker is running on this database (none has a heartbeat); ${HOW}\n`);

      const status = await mms(NOW + 1000, 'Get-CsMeetingMigrationStatus', '--json');
      assert.equal(status.code, 0);
      assert.equal((JSON.parse(status.out) as unknown[]).length, 1);
      assert.equal(status.err, `mms: warning: 1 migration request(s) Pending past their NotBefore wait for a worker, but no mms serve worker is running on this database (none has a heartbeat); ${HOW}\n`);

      // A no-change trigger queued nothing: nothing to warn about from it.
      const again = await mms(NOW, 'Move-CsUser', '-Identity', 'amy@contoso.com', '-Target', 'Online');
      assert.equal(again.code, 0);
      assert.equal(again.err, '');
    });

    it('a worker last seen more than max(3 beats, 1 minute) ago counts as gone: the warning names when it was seen', async () => {
      const seen = NOW + 10_000;
      await beatWorker(fresh.db.kysely, { id: 'gone-worker', host: 'old-host', pid: 4242, startedAt: NOW, now: seen, beatMs: 1000 });
      assert.equal((await mms(seen + 59_000, 'Get-CsMeetingMigrationStatus')).err, '', 'within a minute the worker still counts as running');
      const late = await mms(seen + 61_000, 'Get-CsMeetingMigrationStatus');
      assert.equal(late.err, `mms: warning: 1 migration request(s) Pending past their NotBefore wait for a worker, but no mms serve worker has been seen since ${new Date(seen).toISOString()}; ${HOW}\n`);
      // A worker that beats every 30 s is allowed three beats: 90 s.
      await beatWorker(fresh.db.kysely, { id: 'gone-worker', host: 'old-host', pid: 4242, startedAt: NOW, now: seen, beatMs: 30_000 });
      assert.equal((await mms(seen + 89_000, 'Get-CsMeetingMigrationStatus')).err, '');
      assert.match((await mms(seen + 91_000, 'Get-CsMeetingMigrationStatus')).err, /no mms serve worker has been seen since/);
      await fresh.db.kysely.deleteFrom('worker_heartbeats').execute();
    });

    it('a running mms serve keeps its heartbeat row (id, host, pid, started, last seen), silences the warning, and removes the row when stopped', { timeout: 120_000 }, async () => {
      const worker = startWorker({ url: fresh.url, leaseMs: 60_000, pollMs: 50, batchSize: 10 });
      const id = await worker.ready;
      const [row] = await heartbeats();
      assert.ok(row, 'no heartbeat row once the worker said it runs');
      assert.deepEqual([row.id, row.host, Number(row.pid), Number(row.beat_ms)], [id, os.hostname(), worker.pid, 1000]);
      assert.ok(Number(row.last_seen_at) >= Number(row.started_at));
      // It beats again on its own (once a second at most, with MMS_POLL_INTERVAL=50ms).
      await waitFor('a second heartbeat', async () => Number((await heartbeats())[0]?.last_seen_at) > Number(row.last_seen_at), { timeoutMs: 30_000, intervalMs: 100 });

      // A request an hour ahead (MMS_MIGRATION_DELAY=1h) stays Pending: the running worker silences the warning.
      const queued = await runMms(env('1h'), () => Date.now(), ['Move-CsUser', '-Identity', 'ben@contoso.com', '-Target', 'Online']);
      assert.equal(queued.code, 0, queued.err);
      assert.equal(queued.err, '');

      const exit = await stopWorker(worker);
      assert.equal(exit.code, 0, worker.output().slice(-2000));
      assert.deepEqual(await heartbeats(), [], 'a cleanly stopped worker leaves its row behind');
      const after = await runMms(env('1h'), () => Date.now(), ['Move-CsUser', '-Identity', 'cat@contoso.com', '-Target', 'Online']);
      assert.match(after.err, /^mms: warning: the 1 request\(s\) queued wait for a worker, but no mms serve worker is running on this database/);
    });

    it('a SIGKILLed worker leaves its row: a minute later the warning says since when it was seen', { timeout: 120_000 }, async () => {
      const worker = startWorker({ url: fresh.url, leaseMs: 60_000, pollMs: 50, batchSize: 10 });
      await worker.ready;
      await stopWorker(worker, 'SIGKILL');
      const [row] = await heartbeats();
      assert.ok(row, 'the killed worker\'s row is gone');
      const seen = Number(row.last_seen_at);
      const r = await runMms(env('1h'), () => seen + 61_000, ['Move-CsUser', '-Identity', 'dan@contoso.com', '-Target', 'Online']);
      assert.equal(r.err, `mms: warning: the 1 request(s) queued wait for a worker, but no mms serve worker has been seen since ${new Date(seen).toISOString()}; ${HOW}\n`);
    });

    it('a heartbeat table that cannot be read does not fail the command: it succeeds without the warning', async () => {
      await fresh.db.kysely.schema.dropTable('worker_heartbeats').execute();
      const r = await mms(NOW, 'Move-CsUser', '-Identity', 'eve@contoso.com', '-Target', 'Online', '--json');
      assert.equal(r.code, 0, r.err);
      assert.equal(JSON.parse(r.out).MeetingMigration, 'Queued');
      assert.equal(r.err, '');
    });
  });
}
