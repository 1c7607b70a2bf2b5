// PostgreSQL stores a meeting's iCalendar text (3–10 KB) compressed (TOAST); migration 024 makes that lz4, which
// took half the time of the default pglz in a per-user migration's writes (issue 13). The columns are set to lz4
// and an object a migration rewrote, and the iTIP message it stored, are stored with lz4. (SQLite: nothing to check.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { LZ4_COLUMNS } from '../src/store/migrations/024-lz4-text.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { march, withMigrationFixture } from './helpers/migration-fixture.js';

const postgres = TEST_DATABASES.find((t) => t.name === 'postgres') as (typeof TEST_DATABASES)[number];

describe('postgres: iCalendar text is stored with lz4', { skip: postgres.skip }, () => {
  it('the iCalendar columns use lz4, and what a migration writes is compressed with it', { timeout: 60_000 }, () =>
    withMigrationFixture(postgres, async (fx) => {
      const lz4 = await sql<{ ok: boolean }>`select 'lz4' = any(enumvals) as ok from pg_settings where name = 'default_toast_compression'`.execute(fx.db.kysely);
      assert.equal(lz4.rows[0]?.ok, true, 'this PostgreSQL server was built without lz4');
      for (const [table, column] of LZ4_COLUMNS) {
        const r = await sql<{ c: string }>`select attcompression as c from pg_attribute where attrelid = ${table}::regclass and attname = ${column}`.execute(fx.db.kysely);
        assert.equal(r.rows[0]?.c, 'l', `${table}.${column}`);
      }
      const body = Array.from({ length: 40 }, (_, i) => `Agenda item ${i}: status, risks and next steps for the workstream.`).join('\n');
      const meeting = await fx.schedule({ subject: 'Long agenda', start: march(12), uid: 'long@contoso.com', meetingId: 'LNG23456', body });
      await fx.retarget();
      const request = await fx.migrate();
      assert.equal(request.state, 'Succeeded');
      const stored = await sql<{ method: string | null; version: number }>`select pg_column_compression(ics) as method, version from calendar_objects where uid = ${meeting.uid} order by id`.execute(fx.db.kysely);
      assert.ok(stored.rows.length >= 2, 'the organizer\'s object and the attendees\' copies');
      for (const r of stored.rows) assert.deepEqual([r.method, Number(r.version) > 1], ['lz4', true]);
      const messages = await sql<{ method: string | null }>`select pg_column_compression(ics) as method from outbox_messages where uid = ${meeting.uid}`.execute(fx.db.kysely);
      assert.ok(messages.rows.length >= 1);
      for (const r of messages.rows) assert.equal(r.method, 'lz4');
    }));
});
