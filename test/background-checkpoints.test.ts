// mms serve's SQLite checkpoints run in a thread of their own (src/store/background-checkpoints.ts), so the fsyncs a
// checkpoint needs do not stall the thread that writes (issue 11 §7, issue 13). Checked on a real database file:
// what the writing connection commits reaches the database file without that connection checkpointing (it writes
// less than its own automatic checkpoint's threshold), the connection's own checkpoint is a safety net only while
// the thread runs and the normal one again when the thread ends or the database is closed, and a request to
// checkpoint now says when there is no thread to take it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase } from '../src/store/index.js';
import { SAFETY_NET_PAGES, startBackgroundCheckpoints } from '../src/store/background-checkpoints.js';
import { WAL_AUTOCHECKPOINT_PAGES } from '../src/store/checkpoint.js';

/** Resolves when `check` holds, looked at every 20 ms (the thread's work is seen only in the file). */
async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tempFile(): { file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-ckpt-'));
  return { file: path.join(dir, 'mms.sqlite'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe('sqlite: checkpoints in a thread of their own', () => {
  it('what mms serve\'s connection commits reaches the database file through the thread, not through that connection', { timeout: 90_000 }, async () => {
    const { file, cleanup } = tempFile();
    const db = await openDatabase(file, { backgroundCheckpoints: true });
    try {
      const auto = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db.kysely);
      assert.equal(Number(auto.rows[0]?.wal_autocheckpoint), SAFETY_NET_PAGES);
      await sql`create table filler (id integer primary key, body text not null)`.execute(db.kysely);
      const before = fs.statSync(file).size;
      // ~1.2 MB: about 300 pages, well under the connection's own threshold, so it never checkpoints by itself.
      const body = 'x'.repeat(4000);
      for (let i = 0; i < 300; i++) await sql`insert into filler (body) values (${body})`.execute(db.kysely);
      assert.ok(fs.statSync(`${file}-wal`).size > 1_000_000, 'the rows are in the WAL');
      await until(() => fs.statSync(file).size >= before + 300 * 4000, 'the database file grows by what was written');
    } finally {
      await db.close();
      cleanup();
    }
  });

  it('the connection checkpoints by itself again when the thread ends or the database is closed', { timeout: 60_000 }, async () => {
    const { file, cleanup } = tempFile();
    (await openDatabase(file)).close();
    const handle = new SQLite(file);
    try {
      const own = () => Number(handle.pragma('wal_autocheckpoint', { simple: true }));
      handle.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      const a = startBackgroundCheckpoints(handle, file);
      assert.ok(a.thread, 'the thread started');
      assert.equal(own(), SAFETY_NET_PAGES);
      assert.equal(a.nudge(), true, 'a running thread takes the request');
      await a.thread.terminate(); // the thread dies
      await until(() => own() === WAL_AUTOCHECKPOINT_PAGES, 'the safety net is lifted after the thread ended');
      assert.equal(a.thread, undefined);
      // checkpointWal then checkpoints on the connection itself (store/checkpoint.ts).
      assert.equal(a.nudge(), false, 'no thread to ask');
      const b = startBackgroundCheckpoints(handle, file);
      assert.equal(own(), SAFETY_NET_PAGES);
      await b.stop();
      assert.equal(own(), WAL_AUTOCHECKPOINT_PAGES);
      assert.equal(b.thread, undefined);
    } finally {
      handle.close();
      cleanup();
    }
  });
});
