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
import { runMms } from './helpers/cli-run.js';

describe('sqlite: opening a database while another connection writes', () => {
  it('an up-to-date database opens and answers a read while a write transaction holds the lock; a write says the database is busy', { timeout: 60_000 }, async () => {
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
        // A write that cannot get the lock within the busy timeout says the database is busy, not that the URL is wrong.
        const r = await runMms({ MMS_DATABASE_URL: file, MMS_ACTOR: 'tester', MMS_BUSY_WAIT: '1s' }, () => Date.UTC(2026, 10, 30), ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com']);
        assert.equal(r.code, 1, r.err);
        assert.equal(r.err, `mms: the SQLite database ${file} stayed busy: another process (the mms worker, or another command) held its write lock for the whole wait; try again in a moment\n`);
      } finally {
        worker.exec('rollback');
        worker.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
