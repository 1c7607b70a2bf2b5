import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { TEST_DATABASES } from './helpers/databases.js';
import { openDatabase } from '../src/store/index.js';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: schema`, { skip: t.skip }, () => {
    it('applies the numbered migrations once and again without change', async () => {
      const { db, url, drop } = await t.fresh();
      try {
        // This schema's tables only: Kysely's introspection reads every schema of the database, and failed
        // ("schema … does not exist") when another test file dropped its schema at that moment.
        const listed = db.dialect === 'postgres'
          ? await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db.kysely)
          : await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db.kysely);
        const names = listed.rows.map((x) => x.name).sort();
        for (const want of ['audit_log', 'bridges', 'calendar_objects', 'migration_requests', 'tenants', 'users']) {
          assert.ok(names.includes(want), `missing table ${want} in ${names.join(',')}`);
        }
        const again = await openDatabase(url);
        await again.close();
      } finally {
        await drop();
      }
    });

    it('keeps at most one Pending request per user', async () => {
      const { db, drop } = await t.fresh();
      try {
        const k = db.kysely;
        await k.insertInto('tenants').values({ id: 't', name: 'T', domains: '[]', meeting_url: 'u', on_premises_meeting_url: 'u', meeting_migration_enabled: 1, automatically_migrate_user_meetings: 1, automatically_replace_acp_provider: 0, preserve_edited_blocks: 0, pin_length: 5, max_meeting_attendees: 250, created_at: 1 }).execute();
        await k.insertInto('users').values({ id: 'u', tenant_id: 't', upn: 'a@b', sip_address: 'sip:a@b', display_name: 'A', preferred_language: 'en-US', hosted_on: 'Online', mailbox_location: 'Online', licenses: '[]', ac_provider: 'None', acp: null, ac_enabled: 0, bridge_id: null, toll_number: null, toll_free_number: null, conference_id: '1', leader_pin_hash: 'x', created_at: 1, modified_at: 1 }).execute();
        const row = (id: string, state: 'Pending' | 'Succeeded') => ({ id, tenant_id: 't', user_id: 'u', state, migration_type: 'ToSameType', trigger_reasons: '[]', create_date: 1, modified_date: 1, not_before: 1, retry_count: 0, total_meeting: 0, succeeded_meeting: 0, failed_meeting: 0, skipped_meeting: 0, invites_update: 0, last_message: '', lease_owner: null, lease_expires_at: null });
        await k.insertInto('migration_requests').values(row('r1', 'Succeeded')).execute();
        await k.insertInto('migration_requests').values(row('r2', 'Pending')).execute();
        await assert.rejects(k.insertInto('migration_requests').values(row('r3', 'Pending')).execute());
        const big = await k.selectFrom('migration_requests').select('create_date').where('id', '=', 'r1').executeTakeFirstOrThrow();
        assert.equal(typeof big.create_date, 'number');
      } finally {
        await drop();
      }
    });
  });
}
