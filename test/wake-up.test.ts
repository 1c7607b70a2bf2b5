// Issue 13 §1, instant wake-up: an idle worker sleeps until the earliest runnable request and is woken when one is
// queued — by a trigger in its own process (the REST API of mms serve), by NOTIFY on PostgreSQL from any process,
// by another process's commit on SQLite (PRAGMA data_version) — so with MMS_POLL_INTERVAL at 10 minutes a request
// is still claimed: each test waits for the claim (a log line or the request's state), and a worker that waited
// for its poll would go silent and fail the test. No figure is asserted; the bench measures (`--only wakeup`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from 'kysely';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { MigrationWorker, type Logger } from '../src/migration/index.js';
import { getRequest } from '../src/store/queue-repo.js';
import { queueChannel } from '../src/store/wake-signal.js';
import { QueueListener } from '../src/store/wake-listener.js';
import { runMms } from './helpers/cli-run.js';
import { PG_URL, TEST_DATABASES } from './helpers/databases.js';
import { killAllWorkers, startWorker, stopWorker, waitFor, type WorkerProcess } from './helpers/worker-process.js';

const TEN_MINUTES = 600_000;
// A worker that writes nothing for this long is asleep: it missed the wake-up (its poll would come in 10 minutes).
const STALL_MS = 60_000;
const NO_DATABASE = '/dev/null/not-a-folder/mms.sqlite';

/** A logger that keeps every line (message and fields) for the test to read. */
function recordingLogger() {
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: object | string, msg?: string) => {
    if (typeof fields === 'string') lines.push({ level, msg: fields, fields: {} });
    else lines.push({ level, msg: msg ?? '', fields: fields as Record<string, unknown> });
  };
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger;
  return { logger, lines };
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: an idle worker wakes when a request is queued`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    let token = '';
    const local = (delay: string, ...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: delay, MMS_ACTOR: 'tester' }, Date.now, argv);
    const users = ['amy', 'ben', 'cat', 'dan', 'eve', 'fay'];

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [
        ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsBridge', '-Name', 'US', '-TollNumber', '+14255550100 (Seattle)', '-Default'],
        ...users.map((n) => ['New-MmsUser', `${n}@contoso.com`, '-DisplayName', n, '-HostedOn', 'OnPremises']),
      ]) assert.equal((await local('0', ...argv)).code, 0, argv.join(' '));
      token = (await createApiToken(fresh.db, { name: 'wake', role: 'TenantAdmin', tenant: await resolveTenant(fresh.db, 'Contoso'), lifetimeMs: 86_400_000, actor: 'tester', now: Date.now() })).token;
    });
    after(async () => {
      await killAllWorkers();
      await fresh.drop();
    });

    /**
     * An mms serve (dist/) polling every 10 minutes, with the given trigger delay, once it sleeps: its first claim
     * found nothing and it said `worker idle` (debug). Its REST API's address.
     */
    async function serve(delay: string): Promise<{ w: WorkerProcess; url: string }> {
      const w = startWorker({ url: fresh.url, leaseMs: 60_000, pollMs: TEN_MINUTES, batchSize: 50, logLevel: 'debug', env: { MMS_MIGRATION_DELAY: delay } });
      await w.ready;
      await w.waitForLog('the worker to sleep', (r) => r.msg === 'worker idle', { stallMs: STALL_MS, from: 0 });
      const url = w.logs.find((e) => e.rec.msg?.startsWith('REST API listening'))?.rec.url;
      assert.equal(typeof url, 'string', 'mms serve said where its REST API listens');
      return { w, url: url as string };
    }

    const claimed = (w: WorkerProcess, correlationId: string, from: number) =>
      w.waitForLog(`the claim of ${correlationId}`, (r) => r.msg === 'migration claimed' && r.correlationId === correlationId, { stallMs: STALL_MS, from });
    const finished = (w: WorkerProcess, correlationId: string, from: number) =>
      w.waitForLog(`the end of ${correlationId}`, (r) => r.msg === 'migration finished' && r.correlationId === correlationId, { stallMs: STALL_MS, from });

    it('a trigger through the REST API is claimed without waiting for the poll, and not before its delay is over', { timeout: 180_000 }, async () => {
      const { w, url } = await serve('2s');
      try {
        // From here the worker sleeps 10 minutes unless woken.
        const from = w.logs.length;
        const moved = await runMms({ MMS_DATABASE_URL: NO_DATABASE, MMS_SERVER_URL: url, MMS_TOKEN: token }, Date.now, ['Move-CsUser', '-Identity', 'amy@contoso.com', '-Target', 'Online', '--json']);
        assert.equal(moved.code, 0, moved.err);
        const correlationId = (JSON.parse(moved.out) as { CorrelationId: string }).CorrelationId;
        assert.ok(correlationId, moved.out);
        await claimed(w, correlationId, from);
        await finished(w, correlationId, from);
        assert.equal((await getRequest(fresh.db, correlationId))?.state, 'Succeeded');
        // Woken at the trigger, the worker did not claim then: it set its timer to the end of the delay.
        const request = await fresh.db.kysely.selectFrom('migration_requests').select(['not_before']).where('id', '=', correlationId).executeTakeFirstOrThrow();
        const attempts = await fresh.db.kysely.selectFrom('migration_attempts').select(['started_at']).where('correlation_id', '=', correlationId).execute();
        assert.equal(attempts.length, 1);
        assert.ok(Number(attempts[0]?.started_at) >= Number(request.not_before), `claimed at ${attempts[0]?.started_at}, before its NotBefore ${request.not_before}`);
      } finally {
        await stopWorker(w);
      }
    });

    it(`a trigger committed by another process (the mms command on the database) wakes the worker${t.name === 'postgres' ? ' through NOTIFY' : ' (PRAGMA data_version)'}`, { timeout: 180_000 }, async () => {
      const { w } = await serve('0');
      try {
        const from = w.logs.length;
        const moved = await local('0', 'Move-CsUser', '-Identity', 'ben@contoso.com', '-Target', 'Online', '--json');
        assert.equal(moved.code, 0, moved.err);
        const correlationId = (JSON.parse(moved.out) as { CorrelationId: string }).CorrelationId;
        await finished(w, correlationId, from);
        assert.equal((await getRequest(fresh.db, correlationId))?.state, 'Succeeded');
      } finally {
        await stopWorker(w);
      }
    });

    it('turning MeetingMigrationEnabled back on wakes the worker for the requests that waited', { timeout: 180_000 }, async () => {
      const { w, url } = await serve('0');
      const remote = (...argv: string[]) => runMms({ MMS_DATABASE_URL: NO_DATABASE, MMS_SERVER_URL: url, MMS_TOKEN: token }, Date.now, argv);
      try {
        const moved = await remote('Move-CsUser', '-Identity', 'eve@contoso.com', '-Target', 'Online', '--json');
        assert.equal(moved.code, 0, moved.err);
        await finished(w, (JSON.parse(moved.out) as { CorrelationId: string }).CorrelationId, 0);
        const off = await remote('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled', '$false');
        assert.equal(off.code, 0, off.err);
        // Off, automatic triggers queue nothing; a manual start is queued and waits.
        const asleep = w.logs.length;
        const started = await remote('Start-CsExMeetingMigration', '-Identity', 'eve@contoso.com', '--json');
        assert.equal(started.code, 0, started.err);
        const correlationId = (JSON.parse(started.out) as Array<{ CorrelationId: string }>)[0]?.CorrelationId as string;
        assert.ok(correlationId, started.out);
        // Woken by the start, the worker found nothing it may run and went back to sleep for its 10-minute poll.
        await w.waitForLog('the worker to sleep again', (r) => r.msg === 'worker idle', { stallMs: STALL_MS, from: asleep });
        assert.equal((await getRequest(fresh.db, correlationId))?.state, 'Pending');
        // Turned on through the REST API (in this process: no other process's commit for data_version to see).
        const from = w.logs.length;
        const on = await remote('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled', '$true');
        assert.equal(on.code, 0, on.err);
        await finished(w, correlationId, from);
        assert.equal((await getRequest(fresh.db, correlationId))?.state, 'Succeeded');
      } finally {
        await stopWorker(w);
      }
    });

    it('a request no signal announces (written straight into the table) is found by the fallback poll', { timeout: 120_000 }, async () => {
      // In this process, on the test's own connection: no trigger code runs, so no signal, no NOTIFY, and on SQLite
      // no other connection's commit either. Only the poll can find it.
      const { logger, lines } = recordingLogger();
      const worker = new MigrationWorker({ db: fresh.db, logger, pollMs: 200 });
      const running = worker.start();
      try {
        // Its first claim came and went: what follows is found by a later one.
        await waitFor('the worker to sleep', async () => lines.some((l) => l.msg === 'worker idle'), { timeoutMs: 60_000 });
        const user = await fresh.db.kysely.selectFrom('users').select(['id', 'tenant_id']).where('upn', '=', 'cat@contoso.com').executeTakeFirstOrThrow();
        const id = `poll-${Date.now()}`;
        const now = Date.now();
        await fresh.db.kysely.insertInto('migration_requests').values({
          id, tenant_id: user.tenant_id, user_id: user.id, state: 'Pending', migration_type: 'ToSameType', trigger_reasons: '["ManualStart"]',
          create_date: now, modified_date: now, not_before: now, retry_count: 0, total_meeting: 0, succeeded_meeting: 0, failed_meeting: 0,
          skipped_meeting: 0, invites_update: 0, last_message: '', lease_owner: null, lease_expires_at: null,
        }).execute();
        const end = await waitFor('the request to end', async () => {
          const r = await getRequest(fresh.db, id);
          return r && (r.state === 'Succeeded' || r.state === 'Failed') ? r : undefined;
        }, { timeoutMs: 60_000 });
        assert.equal(end.state, 'Succeeded', end.lastMessage);
      } finally {
        await worker.stop();
        await running;
      }
    });

    if (t.name !== 'postgres') return;

    it('a lost LISTEN connection: one warning, the worker keeps running, reconnects, and NOTIFY from another connection wakes it again', { timeout: 120_000 }, async () => {
      const { logger, lines } = recordingLogger();
      const worker = new MigrationWorker({ db: fresh.db, logger, pollMs: TEN_MINUTES });
      const running = worker.start();
      const channel = (await sql<{ c: string }>`select ${queueChannel} as c`.execute(fresh.db.kysely)).rows[0]?.c as string;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      const listenPids = async () => (await admin.query<{ pid: number }>('select pid from pg_stat_activity where query = $1', [`listen "${channel}"`])).rows.map((r) => r.pid);
      try {
        const [first] = await waitFor('the worker to LISTEN', async () => ((await listenPids()).length ? listenPids() : undefined), { timeoutMs: 30_000 });
        await admin.query('select pg_terminate_backend($1)', [first]);
        const back = await waitFor('LISTEN to come back', async () => { const i = lines.findIndex((l) => l.msg.startsWith('LISTEN works again')); return i >= 0 ? i : undefined; }, { timeoutMs: 60_000 });
        // Back, it reads the queue once (something may have come meanwhile) and sleeps again: only then is the test's
        // notification the only thing that can wake it.
        await waitFor('the worker to sleep again', async () => lines.slice(back).some((l) => l.msg === 'worker idle'), { timeoutMs: 60_000 });
        assert.deepEqual(lines.filter((l) => l.level === 'warn').map((l) => l.msg), ['cannot LISTEN for queued requests: the worker finds them by polling (MMS_POLL_INTERVAL) meanwhile; trying to LISTEN again with backoff']);
        assert.ok(!(await listenPids()).includes(first as number), 'a new LISTEN connection');

        // Another connection (as another process would) queues a request and notifies: the worker, whose poll is
        // 10 minutes away, runs it.
        const user = await fresh.db.kysely.selectFrom('users').select(['id', 'tenant_id']).where('upn', '=', 'dan@contoso.com').executeTakeFirstOrThrow();
        const id = `notify-${Date.now()}`;
        const now = Date.now();
        await admin.query(`set search_path to ${(await sql<{ s: string }>`select current_schema() as s`.execute(fresh.db.kysely)).rows[0]?.s}`);
        await admin.query('begin');
        await admin.query(`insert into migration_requests (id, tenant_id, user_id, state, migration_type, trigger_reasons, create_date, modified_date, not_before, retry_count,
          total_meeting, succeeded_meeting, failed_meeting, skipped_meeting, invites_update, last_message) values ($1, $2, $3, 'Pending', 'ToSameType', '["ManualStart"]', $4, $4, $4, 0, 0, 0, 0, 0, 0, '')`,
        [id, user.tenant_id, user.id, now]);
        await admin.query('select pg_notify($1, \'\')', [channel]);
        await admin.query('commit');
        const end = await waitFor('the notified request to end', async () => {
          const r = await getRequest(fresh.db, id);
          return r && (r.state === 'Succeeded' || r.state === 'Failed') ? r : undefined;
        }, { timeoutMs: 60_000 });
        assert.equal(end.state, 'Succeeded', end.lastMessage);
        assert.equal(lines.filter((l) => l.level === 'error').length, 0, JSON.stringify(lines.filter((l) => l.level === 'error')));
      } finally {
        await admin.end();
        await worker.stop();
        await running;
      }
    });

    it('where LISTEN connects but notifications never arrive (as through pgbouncer in transaction mode) it says so once and keeps trying', { timeout: 60_000 }, async () => {
      // The LISTEN connection goes to another database than the one notified: it is accepted and silent, which is
      // what a pooler in transaction mode does to notifications.
      const elsewhere = new URL(PG_URL);
      elsewhere.pathname = '/postgres';
      const { logger, lines } = recordingLogger();
      const channel = (await sql<{ c: string }>`select ${queueChannel} as c`.execute(fresh.db.kysely)).rows[0]?.c as string;
      // Counts the listener's self-tests: each sends a probe notification on the real database.
      const watcher = new pg.Client({ connectionString: PG_URL });
      await watcher.connect();
      let probes = 0;
      watcher.on('notification', (n) => {
        if (n.payload?.startsWith('probe:')) probes++;
      });
      await watcher.query(`listen "${channel}"`);
      let woken = 0;
      const listener = new QueueListener(fresh.db, { url: elsewhere.toString(), applicationName: 'mms-wake-test' }, { logger, onChange: () => woken++, pollMs: 1000, probeMs: 200, unavailableRetryMs: 50 });
      listener.start();
      try {
        await waitFor('three self-tests', async () => probes >= 3, { timeoutMs: 30_000 });
        assert.equal(listener.listening, false);
        assert.equal(woken, 0);
        const warnings = lines.filter((l) => l.level === 'warn');
        assert.equal(warnings.length, 1, JSON.stringify(lines));
        assert.match(String(warnings[0]?.fields.err), /did not arrive within 200 ms \(a connection pooler in transaction mode/);
      } finally {
        await listener.close();
        await watcher.end();
      }
    });
  });
}
