// Which failures count as a lost database connection (the worker resumes its request after reconnecting) and which
// are transient (retried with backoff): judged on real errors raised by real drivers, never on hand-made objects
// where a driver makes them. issue 7 §1.
import net from 'node:net';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { AliasNode, IdentifierNode, InsertQueryNode, ReturningNode, SelectionNode, sql, type KyselyPlugin } from 'kysely';
import { PG_URL, TEST_DATABASES } from './helpers/databases.js';
import { MIGRATION_DELAY_MS as DELAY } from './helpers/directory-fixture.js';
import { HOUR, MINUTE, REF, queueFixture } from './helpers/queue-fixture.js';
import { setDialInUser } from '../src/directory/index.js';
import type { Db } from '../src/store/index.js';
import { isConnectionLost, openDatabase } from '../src/store/index.js';
import { isTransient } from '../src/migration/index.js';
import { MmsError } from '../src/domain/errors.js';

const pgHalf = TEST_DATABASES.find((t) => t.name === 'postgres');

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * The same database, seen through a handle whose every insert into `table` is replaced by a statement that ends
 * its own backend: a request whose batch loses the connection every time (as a statement that crashes the
 * server's backend would).
 */
function endsOwnBackendOnInsertInto(db: Db, table: string): Db {
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      const node = args.node;
      if (InsertQueryNode.is(node) && node.into?.table.identifier.name === table) {
        // RETURNING is evaluated inside the statement, on its backend.
        const doom = AliasNode.create(sql`pg_terminate_backend(pg_backend_pid())`.toOperationNode(), IdentifierNode.create('doom'));
        return InsertQueryNode.cloneWith(node, { returning: ReturningNode.create([SelectionNode.create(doom)]) });
      }
      return node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
  return { kysely: db.kysely.withPlugin(plugin), dialect: db.dialect, close: () => db.close() };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a failure');
}

describe('postgres: lost connections are recognised', { skip: pgHalf?.skip }, () => {
  it('treats a backend terminated by an admin, and the queries after it, as a lost connection and transient', async () => {
    const victim = new pg.Client({ connectionString: PG_URL });
    const errors: unknown[] = [];
    victim.on('error', (e) => errors.push(e));
    await victim.connect();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
      const running = rejection(victim.query('select pg_sleep(30)'));
      // Terminate once the sleep is under way, so that the failure lands on a query in flight.
      for (;;) {
        const a = await admin.query('select 1 from pg_stat_activity where pid = $1 and query like $2', [rows[0]?.pid, '%pg_sleep%']);
        if (a.rowCount) break;
      }
      await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
      const inFlight = await running;
      assert.equal((inFlight as { code?: string }).code, '57P01', String(inFlight));
      const after = await rejection(victim.query('select 1'));
      for (const err of [inFlight, after, ...errors]) {
        assert.equal(isConnectionLost(err), true, `not seen as a lost connection: ${String(err)}`);
        assert.equal(isTransient(err), true, `not transient: ${String(err)}`);
      }
    } finally {
      await victim.end().catch(() => undefined);
      await admin.end();
    }
  });

  it('treats a refused connection as lost, and openDatabase says the database is not reachable as a transient error', async () => {
    const port = await closedPort();
    const url = `postgres://postgres@127.0.0.1:${port}/test`;
    const client = new pg.Client({ connectionString: url });
    const refused = await rejection(client.connect());
    assert.equal(isConnectionLost(refused), true, String(refused));
    const err = await rejection(openDatabase(url));
    assert.ok(err instanceof MmsError, String(err));
    assert.equal(err.code, 'Transient');
    assert.match(err.message, new RegExp(`^the database at postgres://postgres@127\\.0\\.0\\.1:${port}/test is not reachable \\(.*ECONNREFUSED.*\\); start the database server or fix MMS_DATABASE_URL$`));
    assert.equal(isTransient(err), true);
  });

  it('does not take a statement error for a lost connection', async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const err = await rejection(client.query('select * from no_such_table_here'));
      assert.equal((err as { code?: string }).code, '42P01');
      assert.equal(isConnectionLost(err), false);
    } finally {
      await client.end();
    }
  });
});

describe('postgres: a request that loses its connection every time', { skip: pgHalf?.skip }, () => {
  it('is resumed a few times and then counted as a failed attempt with backoff, not resumed for ever', { timeout: 60_000 }, async () => {
    if (!pgHalf) return;
    let t = REF;
    const q = await queueFixture(pgHalf, () => t);
    try {
      await q.schedule('amy', 2);
      const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
      const id = change.correlationId;
      assert.ok(id, 'a queued request');
      t = REF + DELAY;
      const w = q.worker('doomed', { db: endsOwnBackendOnInsertInto(q.db, 'migration_meetings'), leaseMs: MINUTE, retry: { maxAttempts: 3, baseMs: HOUR } });
      const running = w.start();
      for (;;) {
        const r = await q.row(id);
        if (Number(r.retry_count) > 0 || r.state === 'Succeeded' || r.state === 'Failed') break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await w.stop();
      await running;
      const row = await q.row(id);
      assert.deepEqual([row.state, Number(row.retry_count)], ['Pending', 1], String(row.last_message));
      assert.match(String(row.last_message), /^attempt 1 failed, retrying at \S+: terminating connection due to administrator command$/);
      const lines = q.log.map((l) => l.msg);
      assert.equal(lines.filter((m) => m === 'database connection lost; reconnecting with backoff').length, 5, lines.join('\n'));
      assert.equal(lines.filter((m) => m === 'database connection is back').length, 5, lines.join('\n'));
      assert.equal(lines.filter((m) => m === 'migration attempt failed; will retry').length, 1, lines.join('\n'));
    } finally {
      await q.drop();
    }
  });
});

describe('sqlite: no connection to lose', () => {
  it('does not take a busy database or a constraint error for a lost connection; busy stays transient, an invalid input does not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-lost-'));
    const file = path.join(dir, 'x.sqlite');
    const a = new SQLite(file);
    const b = new SQLite(file);
    try {
      a.pragma('journal_mode = WAL');
      a.exec('create table t (id integer primary key)');
      b.pragma('busy_timeout = 0');
      a.exec('begin immediate');
      let busy: unknown;
      try {
        b.exec('begin immediate');
      } catch (err) {
        busy = err;
      }
      assert.equal((busy as { code?: string }).code, 'SQLITE_BUSY', String(busy));
      assert.equal(isConnectionLost(busy), false);
      assert.equal(isTransient(busy), true);
      a.exec('insert into t values (1)');
      let constraint: unknown;
      try {
        a.exec('insert into t values (1)');
      } catch (err) {
        constraint = err;
      }
      assert.match(String((constraint as { code?: string }).code), /^SQLITE_CONSTRAINT/);
      assert.equal(isConnectionLost(constraint), false);
      a.exec('rollback');
      assert.equal(isTransient(new MmsError('Invalid', 'a malformed calendar object')), false);
    } finally {
      a.close();
      b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
