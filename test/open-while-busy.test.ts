// Issue 9 §2 (first item): opening an up-to-date SQLite database takes no write lock, so an `mms` command opens and
// reads while the worker holds a write transaction, instead of waiting for the lock (and failing after the busy
// timeout with "database is locked"). Only a database with a schema migration pending is opened under the lock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/store/index.js';

describe('sqlite: opening a database while another connection writes', () => {
  it('an up-to-date database opens and answers a read while a write transaction holds the lock', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-open-busy-'));
    const file = path.join(dir, 'mms.sqlite');
    try {
      await (await openDatabase(file)).close(); // creates it and applies every migration
      const worker = new Database(file);
      worker.exec('begin immediate'); // the worker's write transaction, in another connection
      try {
        const db = await openDatabase(file);
        try {
          const rows = await db.kysely.selectFrom('tenants').select('id').execute();
          assert.deepEqual(rows, []);
        } finally {
          await db.close();
        }
      } finally {
        worker.exec('rollback');
        worker.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
