// A small disk (issue 7 §4): the SQLite write-ahead log stays bounded (demo load, migration requests), a full
// database says which file and how much space in one line, and a full disk is retried within minutes — on SQLite
// with a real SQLITE_FULL (PRAGMA max_page_count on the worker's own connection), on PostgreSQL with a real
// server-side disk_full (SQLSTATE 53100) raised by the server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type KyselyPlugin } from 'kysely';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { march, SERVICE_ADDRESS, withMigrationFixture, type MigrationFixture } from './helpers/migration-fixture.js';
import { ACTOR } from './helpers/directory-fixture.js';
import { openDatabase, type Db } from '../src/store/index.js';
import { WAL_SIZE_LIMIT_BYTES } from '../src/store/checkpoint.js';
import { DiskFullError, isDiskFull, PG_DISK_FULL } from '../src/store/disk-full.js';
import { loadDemo } from '../src/demo/index.js';
import { importCalendar } from '../src/meetings/index.js';
import { DEFAULT_RETRY, MigrationWorker, retryDelay, startMigration } from '../src/migration/index.js';
import { isTransient } from '../src/migration/worker.js';
import { DISK_FULL_RETRY, retryPolicyFor } from '../src/migration/backoff.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const REF = Date.UTC(2026, 2, 2, 17, 0, 0);

/**
 * WAL frames not yet copied into the database file: mxFrame (WAL-index header, offset 16) minus nBackfill
 * (checkpoint info, offset 96) of the `-shm` file, in the machine's byte order (https://sqlite.org/walformat.html).
 */
function walBacklog(file: string): number {
  const shm = fs.readFileSync(`${file}-shm`);
  const le = os.endianness() === 'LE';
  const u32 = (at: number) => (le ? shm.readUInt32LE(at) : shm.readUInt32BE(at));
  return u32(16) - u32(96);
}

const walSize = (file: string): number => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);

/** A Db that records the largest WAL file seen after any statement (commits and their auto-checkpoints included). */
function watchingWal(db: Db, file: string): { db: Db; peak(): number } {
  let peak = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (a) => a.node,
    transformResult: async (a) => {
      peak = Math.max(peak, walSize(file));
      return a.result;
    },
  };
  return { db: { ...db, kysely: db.kysely.withPlugin(plugin) }, peak: () => peak };
}

interface LogLine { level: string; obj: Record<string, unknown>; msg?: string }
function capture(): { logger: ConstructorParameters<typeof MigrationWorker>[0]['logger']; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('retry schedules', () => {
  it('a full disk retries after 15 s doubling up to 4 minutes; other transient failures keep the 340 s · 2^k schedule', () => {
    const mid = () => 0.5; // jitter factor exactly 1
    const disk = retryPolicyFor(new DiskFullError('x'), DEFAULT_RETRY);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((k) => retryDelay(disk, k, mid) / SECOND), [15, 30, 60, 120, 240, 240, 240, 240]);
    assert.equal(disk.maxAttempts, DEFAULT_RETRY.maxAttempts, 'the attempt limit stays MMS_RETRY_ATTEMPTS');
    const remote = retryPolicyFor(new Error('Connection terminated unexpectedly'), DEFAULT_RETRY);
    assert.equal(remote, DEFAULT_RETRY);
    assert.deepEqual([1, 2, 8].map((k) => retryDelay(remote, k, mid) / SECOND), [340, 680, 340 * 128]);
    // Jitter stays ±20 % around the capped delay.
    assert.equal(retryDelay(disk, 9, () => 0), 0.8 * DISK_FULL_RETRY.capMs!);
    assert.equal(retryDelay(disk, 9, () => 1), 1.2 * DISK_FULL_RETRY.capMs!);
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: a full disk`, { skip: t.skip }, () => {
    it('is classified as a transient disk-full error (the short schedule), not as any transient error', async () => {
      const err = await realDiskFull(t);
      assert.ok(isDiskFull(err), `${String(err)} counts as a full disk`);
      assert.ok(isTransient(err), 'and is retried');
      assert.equal(retryPolicyFor(err, DEFAULT_RETRY).baseMs, DISK_FULL_RETRY.baseMs);
      if (t.name === 'postgres') {
        assert.equal((err as { code?: string }).code, PG_DISK_FULL);
        // Another server error of the same class (53200 out_of_memory) is no full disk.
        const other = await raiseOnServer(t, 'out_of_memory');
        assert.equal((other as { code?: string }).code, '53200');
        assert.ok(!isDiskFull(other));
        assert.equal(retryPolicyFor(other, DEFAULT_RETRY), DEFAULT_RETRY);
      }
    });

    it('sends the request back to Pending with a retry due within minutes, says why in one line, and succeeds once space is back', () =>
      withMigrationFixture(t, async (fx) => {
        const uids: string[] = [];
        for (let i = 0; i < 20; i++) uids.push((await fx.schedule({ subject: `Weekly sync ${i}`, start: march(10 + (i % 15)), uid: `sync-${i}@contoso.com` })).uid);
        await fx.retarget();
        const [queued] = await startMigration(fx.db, await fx.currentTenant(), [fx.upn('amy')], { actor: ACTOR, now: () => fx.clock.now });
        assert.ok(queued && queued.status === 'Queued');
        const id = queued.correlationId;

        const space = await fillUp(t, fx);
        const { logger, lines } = capture();
        const worker = new MigrationWorker({ db: fx.db, now: () => fx.clock.now, logger, workerId: 'small-disk', serviceAddress: SERVICE_ADDRESS, random: () => 0.5, beforeWrite: space.beforeWrite });
        assert.equal(await worker.runOnce([id]), true, 'the worker claimed the request');

        const [failed] = await fx.requests('amy');
        assert.equal(failed?.correlationId, id);
        assert.equal(failed?.state, 'Pending');
        assert.equal(failed!.notBefore - fx.clock.now, 15 * SECOND, 'the first disk-full retry is due in 15 s (jitter factor 1), not 340 s');
        assert.ok(!/[\r\n]/.test(failed!.lastMessage), 'LastMessage is one line');
        assert.match(failed!.lastMessage, /^attempt 1 failed, retrying at \S+: /);
        space.assertMessage(failed!.lastMessage);
        const warn = lines.find((l) => l.level === 'warn' && l.msg === 'migration attempt failed; will retry');
        assert.ok(warn, 'the worker logged the retry');
        space.assertMessage(String(warn.obj.err));
        assert.equal((await fx.notifications(id)).length, 0, 'nothing half-written: the failed batch rolled back');

        await space.restore();
        assert.equal(await worker.runOnce([id]), false, 'not runnable before its retry is due');
        fx.clock.advance(15 * SECOND);
        assert.equal(await worker.runOnce([id]), true);
        const [done] = await fx.requests('amy');
        assert.equal(done?.state, 'Succeeded', done?.lastMessage);
        assert.deepEqual([done!.totalMeeting, done!.invitesUpdate, done!.failedMeeting], [20, 20, 0]);
        const perMeeting = new Map<string, number>();
        for (const n of await fx.notifications(id)) perMeeting.set(n.uid, (perMeeting.get(n.uid) ?? 0) + 1);
        assert.deepEqual([...perMeeting.keys()].sort(), [...uids].sort());
        assert.ok([...perMeeting.values()].every((n) => n === 3), 'each meeting announced once to each of its 3 attendees');
        if (t.name === 'sqlite') assert.equal(walBacklog(fx.url), 0, 'the request ended with a checkpoint: no WAL frame left outside the database file');
      }));
  });
}

/** A real disk-full error from the database itself. */
async function realDiskFull(t: TestDatabase): Promise<unknown> {
  if (t.name === 'postgres') return raiseOnServer(t, 'disk_full');
  const f = await t.fresh();
  try {
    await sql`create table filler (x text)`.execute(f.db.kysely);
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(f.db.kysely)).rows[0]!.page_count;
    await sql.raw(`pragma max_page_count = ${pages}`).execute(f.db.kysely);
    return await sql`insert into filler values (${'x'.repeat(64 * 1024)})`.execute(f.db.kysely).then(() => assert.fail('expected SQLITE_FULL'), (e: unknown) => e);
  } finally {
    await f.drop();
  }
}

/** The server raises an error with the given condition name (its own SQLSTATE), as it would on a real fault. */
async function raiseOnServer(t: TestDatabase, condition: string): Promise<unknown> {
  const f = await t.fresh();
  try {
    return await sql.raw(`do $$ begin raise exception using errcode = '${condition}', message = 'could not extend file "base/16384/16385": No space left on device'; end $$`)
      .execute(f.db.kysely).then(() => assert.fail(`expected ${condition}`), (e: unknown) => e);
  } finally {
    await f.drop();
  }
}

interface Filled {
  beforeWrite?: (uids: readonly string[]) => Promise<void>;
  assertMessage(message: string): void;
  restore(): Promise<void>;
}

/**
 * Makes the database full for the worker. SQLite: the worker's own connection (Kysely's SQLite dialect has one)
 * may not grow the file by more than a few pages — enough for the claim, not for the batch. PostgreSQL: the
 * server raises disk_full inside the first batch (a PL/pgSQL RAISE: the same SQLSTATE and error shape a full
 * data directory gives), as a server whose disk filled up would.
 */
async function fillUp(t: TestDatabase, fx: MigrationFixture): Promise<Filled> {
  const k = fx.db.kysely;
  if (t.name === 'sqlite') {
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(k)).rows[0]!.page_count;
    const free = (await sql<{ freelist_count: number }>`pragma freelist_count`.execute(k)).rows[0]!.freelist_count;
    await sql.raw(`pragma max_page_count = ${pages + 4}`).execute(k);
    return {
      assertMessage(message) {
        const file = fx.url;
        assert.ok(message.includes(`SQLite database ${file} is full ("database or disk is full")`), `names the file: ${message}`);
        assert.match(message, new RegExp(`free on ${escape(path.dirname(file))}, at least 8\\.0 MB needed there`), 'the space free and needed');
        assert.match(message, /page limit \(PRAGMA max_page_count \d+ pages of \d+ bytes/, `the cause (${free} free pages before)`);
        assert.match(message, /retry by themselves within minutes$/);
      },
      async restore() {
        await sql.raw('pragma max_page_count = 1073741823').execute(k);
      },
    };
  }
  let full = true;
  return {
    async beforeWrite() {
      if (full) {
        await sql.raw(`do $$ begin raise exception using errcode = 'disk_full', message = 'could not extend file "base/16384/16385": No space left on device'; end $$`).execute(k);
      }
    },
    assertMessage(message) {
      assert.match(message, /could not extend file "base\/16384\/16385": No space left on device$/);
    },
    async restore() {
      full = false;
    },
  };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('sqlite: the write-ahead log on a small disk', () => {
  let dir: string;
  let file: string;
  let db: Db;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-small-disk-'));
    file = path.join(dir, 'mms.sqlite');
    db = await openDatabase(file);
  });
  after(async () => {
    await db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`loading the demo keeps the WAL under ${WAL_SIZE_LIMIT_BYTES / 1024 / 1024} MB and leaves it checkpointed`, async () => {
    const watched = watchingWal(db, file);
    const summary = await loadDemo(watched.db, { now: REF });
    assert.equal(summary.meetings.total, 500);
    const peak = watched.peak();
    const dbSize = fs.statSync(file).size;
    process.stdout.write(`# demo load: WAL peak ${(peak / 1024 / 1024).toFixed(2)} MB beside a ${(dbSize / 1024 / 1024).toFixed(2)} MB database\n`);
    assert.ok(peak > 0, 'the WAL was watched');
    assert.ok(peak <= WAL_SIZE_LIMIT_BYTES, `the WAL peaked at ${peak} bytes, over the ${WAL_SIZE_LIMIT_BYTES} bound`);
    assert.equal(walBacklog(file), 0, 'every WAL frame is in the database file once the load returns');
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(db.kysely)).rows[0]!.page_count;
    const pageSize = (await sql<{ page_size: number }>`pragma page_size`.execute(db.kysely)).rows[0]!.page_size;
    assert.equal(dbSize, pages * pageSize, 'the database file holds every page (not a 4 KB file beside a big WAL)');
  });

  it('an import into a full database stops with the one-line disk-full message instead of skipping its objects', async () => {
    const tenant = (await db.kysely.selectFrom('tenants').select('id').executeTakeFirstOrThrow()).id;
    const user = (await db.kysely.selectFrom('users').select('upn').where('tenant_id', '=', tenant).orderBy('upn').executeTakeFirstOrThrow()).upn;
    const before = (await db.kysely.selectFrom('calendar_objects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(db.kysely)).rows[0]!.page_count;
    await sql.raw(`pragma max_page_count = ${pages}`).execute(db.kysely);
    try {
      const big = 'x'.repeat(60).repeat(40);
      const events = Array.from({ length: 200 }, (_, i) => [
        'BEGIN:VEVENT', `UID:filler-${i}@example.org`, 'DTSTAMP:20260301T000000Z', 'DTSTART:20260401T100000Z', 'DTEND:20260401T110000Z',
        `SUMMARY:Filler ${i}`, ...Array.from({ length: 40 }, () => `COMMENT:${big.slice(0, 60)}`), 'END:VEVENT',
      ].join('\r\n')).join('\r\n');
      const ics = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n${events}\r\nEND:VCALENDAR\r\n`;
      await assert.rejects(importCalendar(db, tenant, user, Buffer.from(ics), () => REF, 'filler.ics'), (e: unknown) => {
        assert.ok(e instanceof DiskFullError, `a DiskFullError, not ${String(e)}`);
        assert.ok(!/[\r\n]/.test(e.message));
        assert.ok(e.message.startsWith(`SQLite database ${file} is full ("database or disk is full"): `), e.message);
        return true;
      });
    } finally {
      await sql.raw('pragma max_page_count = 1073741823').execute(db.kysely);
    }
    const afterCount = (await db.kysely.selectFrom('calendar_objects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    assert.equal(Number(afterCount), Number(before), 'the import rolled back as a whole');
  });
});
