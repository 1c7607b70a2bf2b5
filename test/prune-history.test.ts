// History older than MMS_HISTORY_DAYS is pruned (queue-repo pruneHistory): finished requests with their meeting rows
// and attempts, a chunk per write transaction so a long history never holds SQLite's lock at length; Pending and
// InProgress requests and newer history stay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { resolveTenant } from '../src/directory/index.js';
import { pruneHistory } from '../src/store/queue-repo.js';
import { transactionStats } from '../src/store/transaction.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const CUT = NOW - 150 * 86_400_000;

for (const t of TEST_DATABASES) {
  describe(`${t.name}: pruning old migration history`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    before(async () => {
      fresh = await t.fresh();
      for (const argv of [['New-MmsTenant', 'Contoso', '-Domain', 'contoso.com'], ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy']]) {
        assert.equal((await runMms({ MMS_DATABASE_URL: fresh.url }, () => NOW, argv)).code, 0);
      }
    });
    after(async () => fresh?.drop());

    it('deletes 250 old finished requests with their meetings in chunks, and keeps the rest', async () => {
      const tenant = await resolveTenant(fresh.db, 'Contoso');
      const user = await fresh.db.kysely.selectFrom('users').select('id').executeTakeFirstOrThrow();
      const request = (state: string, modified: number) => ({
        id: randomUUID(), tenant_id: tenant.id, user_id: user.id, state: state as 'Succeeded', migration_type: 'AllToTeams', trigger_reasons: '[]',
        create_date: modified, modified_date: modified, not_before: modified, retry_count: 0, total_meeting: 1, succeeded_meeting: 1,
        failed_meeting: 0, skipped_meeting: 0, invites_update: 0, last_message: '', lease_owner: null, lease_expires_at: null,
      });
      const old = Array.from({ length: 250 }, (_, i) => request(i % 2 ? 'Succeeded' : 'Failed', CUT - 1 - i));
      const kept = [request('Succeeded', CUT + 1), request('Pending', CUT - 10), request('InProgress', CUT - 10)];
      await fresh.db.kysely.insertInto('migration_requests').values([...old, ...kept]).execute();
      await fresh.db.kysely.insertInto('migration_meetings').values([...old, ...kept].map((r) => ({
        correlation_id: r.id, tenant_id: tenant.id, user_id: user.id, uid: `uid-${r.id}`, subject: 's', start_time: null, action: 'Updated' as const, reason: 'BlockReplaced', attendees_notified: 0, at: r.modified_date, version_written: null, previous_block: null,
      }))).execute();

      const before = transactionStats().count;
      assert.equal(await pruneHistory(fresh.db, CUT), 250);
      // 100 requests a transaction: 250 take three (and a last one that finds none left is not needed).
      assert.equal(transactionStats().count - before, 3, 'pruned in chunks, not one transaction');
      const left = await fresh.db.kysely.selectFrom('migration_requests').select('id').execute();
      assert.deepEqual(left.map((r) => r.id).sort(), kept.map((r) => r.id).sort());
      const meetings = await fresh.db.kysely.selectFrom('migration_meetings').select('correlation_id').execute();
      assert.deepEqual(meetings.map((m) => m.correlation_id).sort(), kept.map((r) => r.id).sort());
      assert.equal(await pruneHistory(fresh.db, CUT), 0);
    });
  });
}
