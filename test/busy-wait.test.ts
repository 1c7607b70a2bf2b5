// Issue 9 §2: admin commands never fail because the worker is busy. While another process holds a write
// transaction, a command waits for it without blocking its event loop (SQLite: a short busy_timeout and
// asynchronous retries, bounded by MMS_BUSY_WAIT; PostgreSQL waits on the server) and succeeds once the lock is let
// go; the worker holds the lock for one batch at a time, never across batches. Every wait here is on an event (a
// line from a child process, a lock seen waiting in pg_locks, a timer tick count), never on a guessed duration.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { TEST_DATABASES } from './helpers/databases.js';
import { childEnv, ROOT } from './helpers/built-dist.js';
import { runMms } from './helpers/cli-run.js';
import { withMigrationFixture, HOUR, march, SERVICE_ADDRESS } from './helpers/migration-fixture.js';
import { openDatabase } from '../src/store/index.js';
import { transactionStats, writeTransaction } from '../src/store/transaction.js';
import { MigrationWorker, startMigration } from '../src/migration/index.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Resolves with the first line of `child`'s stream that matches; rejects if the process exits first. */
function lineFrom(child: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const hit = buf.split('\n').find((l) => re.test(l));
      if (hit !== undefined) {
        child[stream]?.off('data', onData);
        child.off('exit', onExit);
        resolve(hit);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`process exited (${code}) before writing ${re}; so far: ${buf}`));
    child[stream]?.on('data', onData);
    child.once('exit', onExit);
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

/**
 * Another process holding a write transaction until told (a line on its stdin) to commit. SQLite: BEGIN
 * IMMEDIATE, the write lock the worker takes for a batch. PostgreSQL: EXCLUSIVE locks on the tables the commands
 * write (reads go on; writes wait on the server).
 */
async function holdWriteLock(dialect: 'sqlite' | 'postgres', url: string): Promise<{ release(): Promise<void>; kill(): void }> {
  const script = dialect === 'sqlite'
    ? `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec('begin immediate'); console.log('held');
       process.stdin.once('data', () => { db.exec('commit'); db.close(); console.log('released'); process.exit(0); });`
    : `const c = new (require('pg').Client)({ connectionString: process.argv[1] });
       (async () => { await c.connect(); await c.query('begin'); await c.query('lock table tenants, users, audit_log, mms_schema_migrations in exclusive mode'); console.log('held');
         process.stdin.once('data', async () => { await c.query('commit'); await c.end(); console.log('released'); process.exit(0); }); })();`;
  const child = spawn(process.execPath, ['-e', script, url], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  await lineFrom(child, 'stdout', /^held$/);
  return {
    kill: () => child.kill('SIGKILL'),
    async release() {
      const done = lineFrom(child, 'stdout', /^released$/);
      child.stdin?.end('go\n');
      await done;
    },
  };
}

/** Resolves once a backend of process `pid` waits for a lock (PostgreSQL queues the command's write behind the holder). */
async function pgWaiting(pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: process.env.MMS_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' });
  await c.connect();
  try {
    for (;;) {
      const r = await c.query(`select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.application_name = $1`, [`mms-${pid}`]);
      if (r.rowCount) return;
      await new Promise((r2) => setImmediate(r2)); // look again at once: a condition, not a guessed delay
    }
  } finally {
    await c.end();
  }
}

/** A real `mms` process (the sources through tsx), MMS_DEBUG=tx so that it says when it starts waiting for the lock. */
function mmsChild(url: string, argv: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], {
    cwd: ROOT, env: childEnv({ MMS_DATABASE_URL: url, MMS_ACTOR: 'tester', MMS_DEBUG: 'tx' }), stdio: ['ignore', 'pipe', 'pipe'],
  });
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: commands beside a busy writer`, { skip: t.skip }, () => {
    it('New-MmsUser and Set-CsOnlineDialInConferencingTenantSettings -PinLength 7, run while another process holds a write transaction, wait for it and succeed once it commits', { timeout: 120_000 }, async () => {
      const { url, db, drop } = await t.fresh();
      try {
        await db.close();
        const made = await runMms({ MMS_DATABASE_URL: url, MMS_ACTOR: 'tester' }, () => NOW, ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com']);
        assert.equal(made.code, 0, made.err);
        const read = async <T>(q: (k: Awaited<ReturnType<typeof openDatabase>>['kysely']) => Promise<T>): Promise<T> => {
          const d = await openDatabase(url, { poolSize: 1 });
          try {
            return await q(d.kysely);
          } finally {
            await d.close();
          }
        };
        const commands: Array<{ argv: string[]; check: () => Promise<void> }> = [
          {
            argv: ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Shaw'],
            check: async () => assert.deepEqual(await read((k) => k.selectFrom('users').select(['upn', 'display_name']).execute()), [{ upn: 'amy@contoso.com', display_name: 'Amy Shaw' }]),
          },
          {
            argv: ['Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', '7'],
            check: async () => assert.deepEqual(await read((k) => k.selectFrom('tenants').select('pin_length').execute()), [{ pin_length: 7 }]),
          },
        ];
        for (const c of commands) {
          const holder = await holdWriteLock(t.name, url);
          let r: { code: number | null; out: string; err: string };
          try {
            const child = mmsChild(url, c.argv);
            const exit = exitOf(child);
            // The command has reached the lock and is waiting for it (not failed, not done).
            if (t.name === 'sqlite') await lineFrom(child, 'stderr', /^mms: waiting for the write lock on /);
            else await pgWaiting(child.pid as number);
            await holder.release();
            r = await exit;
          } finally {
            holder.kill();
          }
          assert.equal(r.code, 0, `${c.argv.join(' ')}: ${r.err}`);
          assert.doesNotMatch(r.err, /stayed busy|database is locked|failed/);
          await c.check();
        }
      } finally {
        await drop();
      }
    });

    it('a write waiting for a lock another process holds leaves the event loop running (a timer keeps ticking) and lands once the lock is let go', { timeout: 60_000 }, async () => {
      const { url, db, drop } = await t.fresh();
      try {
        const holder = await holdWriteLock(t.name, url);
        try {
          let settled = false;
          const write = writeTransaction(db, async (tx) => {
            await sql`insert into mms_schema_migrations (name, applied_at) values ('busy-test', ${NOW})`.execute(tx);
          }).finally(() => { settled = true; });
          write.catch(() => undefined);
          // 50 ticks of a 1 ms timer: with a blocking busy handler none would run before the write gave up.
          let ticks = 0;
          await new Promise<void>((resolve) => {
            const timer = setInterval(() => {
              if (++ticks >= 50) {
                clearInterval(timer);
                resolve();
              }
            }, 1);
          });
          assert.equal(settled, false, 'the write settled while the other process still held the lock');
          await holder.release();
          await write;
          const rows = await sql<{ name: string }>`select name from mms_schema_migrations where name = 'busy-test'`.execute(db.kysely);
          assert.deepEqual(rows.rows, [{ name: 'busy-test' }]);
        } finally {
          holder.kill();
        }
      } finally {
        await drop();
      }
    });

    it('the worker holds the write lock for one batch at a time: between two batches another connection writes at once', { timeout: 120_000 }, async () => {
      await withMigrationFixture(t, async (fx) => {
        const meetings = 23;
        for (let i = 0; i < meetings; i++) await fx.schedule({ subject: `Weekly ${i}`, start: march(10 + (i % 15)) + (i % 5) * HOUR });
        await fx.retarget();
        const [r] = await startMigration(fx.db, await fx.currentTenant(), [fx.address('amy')], { actor: 'tester', now: () => fx.clock.now });
        assert.ok(r?.status === 'Queued');
        // Before each batch, another connection writes without waiting (SQLite: MMS_BUSY_WAIT 0, so one short
        // busy_timeout) — it fails if the worker still held the write lock from the batch before. On PostgreSQL,
        // where writers of other rows do not wait, no connection of this process may be left inside a transaction.
        const other = await openDatabase(fx.url, { busyWaitMs: 0, poolSize: 1 });
        const before = transactionStats().count;
        let batches = 0;
        try {
          const worker = new MigrationWorker({
            db: fx.db, now: () => fx.clock.now, logger: silent, workerId: 'busy-test', serviceAddress: SERVICE_ADDRESS, batchSize: 5,
            beforeWrite: async () => {
              batches++;
              if (t.name === 'postgres') {
                const open = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = ${`mms-${process.pid}`} and state like 'idle in transaction%'`.execute(other.kysely);
                assert.equal(open.rows[0]?.n, 0, `a transaction was left open before batch ${batches}`);
              }
              await writeTransaction(other, async (tx) => {
                await tx.updateTable('migration_requests').set({ last_message: `between batches ${batches}` }).where('id', '=', r.correlationId).execute();
              });
            },
          });
          assert.equal(await worker.runOnce([r.correlationId]), true);
        } finally {
          await other.close();
        }
        assert.equal(batches, Math.ceil(meetings / 5));
        const done = await fx.db.kysely.selectFrom('migration_requests').select(['state', 'invites_update']).where('id', '=', r.correlationId).executeTakeFirstOrThrow();
        assert.deepEqual(done, { state: 'Succeeded', invites_update: meetings });
        // At least one write transaction per batch (ours and the worker's), and how long the longest held the lock.
        const stats = transactionStats();
        assert.ok(stats.count - before >= 2 * batches, `${stats.count - before} write transactions for ${batches} batches`);
        console.log(`# ${t.name}: ${stats.count - before} write transactions, longest held ${stats.longestHeldMs.toFixed(1)} ms (this test process, ${meetings} meetings in batches of 5)`);
      });
    });
  });
}

describe('sqlite: the wait for the lock is bounded', () => {
  it('a write that cannot get the lock within MMS_BUSY_WAIT says the database stayed busy, and the event loop ran meanwhile', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-busy-wait-'));
    const file = path.join(dir, 'mms.sqlite');
    try {
      await (await openDatabase(file)).close();
      const holder = await holdWriteLock('sqlite', file);
      const db = await openDatabase(file, { busyWaitMs: 300 });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      try {
        await assert.rejects(
          writeTransaction(db, async (tx) => { await sql`insert into mms_schema_migrations (name, applied_at) values ('x', 0)`.execute(tx); }),
          (err: Error) => {
            assert.equal(err.message, `the SQLite database ${file} stayed busy: another process (the mms worker, or another command) held its write lock for the whole wait; try again in a moment`);
            return true;
          },
        );
        // A blocking wait would have let no 1 ms timer run during the 300 ms; the asynchronous one lets most of them.
        assert.ok(ticks >= 10, `only ${ticks} timer ticks while waiting`);
      } finally {
        clearInterval(timer);
        await db.close();
        await holder.release();
        holder.kill();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
