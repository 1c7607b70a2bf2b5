// The claim's check "has this user a request InProgress already?" must find the user's own rows, on the embedded
// SQLite database as it is in use: without planner statistics (nobody runs ANALYZE on it; test/query-plans.test.ts
// looks after ANALYZE). Without them SQLite once took the tenant's index for `tenant_id = ? and user_id = ? and
// state = ?`, so every Pending request read the tenant's whole request history: a tenant-wide change of 2,000 users
// spent ~0.8 s of CPU per claim in the full-size bench (issue 13). A SEARCH that is not a SCAN passes the growth
// check, so this one looks at which columns the search uses. The outbox sender's claim likewise: it must stop after
// the oldest `limit` messages, not read and sort the whole queue.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startMigration } from '../src/migration/index.js';
import { claimRequests, msUntilRunnable } from '../src/store/queue-repo.js';
import { claimMail } from '../src/store/outbox-send-repo.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { explain, tracedDb } from './helpers/query-plans.js';
import { buildWorld } from './helpers/world.js';

const sqlite = TEST_DATABASES.find((t) => t.name === 'sqlite');

describe('sqlite without statistics: the claim reads a user\'s own requests', { skip: sqlite?.skip }, () => {
  it('the InProgress check of the claim and of the idle timer searches by user, not by tenant', async () => {
    const handle = await sqlite!.fresh();
    try {
      const { db } = handle;
      const world = await buildWorld(db, { organizers: 3, meetingsPerOrganizer: 1, internalPerMeeting: 1, externalPerMeeting: 1, internalPool: 'organizers' });
      await startMigration(db, world.tenant, world.organizers.slice(0, 2), { actor: 'test', now: Date.now });
      const stats = await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'sqlite_stat1'`.execute(db.kysely);
      assert.equal(Number(stats.rows[0]?.n), 0, 'the database has planner statistics: this test is about a database without them');

      const traced = tracedDb(db);
      const claimed = await claimRequests(traced.db, 'plan-test', Date.now(), 60_000);
      assert.equal(claimed.length, 1, 'a request was claimed, so the claim query ran');
      await msUntilRunnable(traced.db, Date.now());
      const inProgressChecks = traced.statements.filter((s) => /not exists \(select 1 from migration_requests o/.test(s.sql));
      assert.equal(inProgressChecks.length, 2, `the claim and the idle timer each ask it once:\n${traced.statements.map((s) => s.sql).join('\n')}`);
      for (const st of inProgressChecks) {
        const lines = (await explain(db, st)).plan;
        const inner = lines.filter((l) => /^(SEARCH|SCAN) o\b/.test(l));
        // SQLite may list the correlated subquery once per branch of the claim's OR.
        assert.ok(inner.length >= 1, `a read of the user's requests:\n${lines.join('\n')}`);
        for (const l of inner) assert.match(l, /^SEARCH o USING (COVERING )?INDEX \S+ \((?:[^)]*AND )?user_id=\?/, `the check reads the user's rows by user_id:\n${st.sql}\n${lines.join('\n')}`);
      }
    } finally {
      await handle.drop();
    }
  });

  it('the outbox sender\'s claim reads the oldest sendable messages in id order and stops, never sorting the whole queue', async () => {
    const handle = await sqlite!.fresh();
    try {
      const { db } = handle;
      const traced = tracedDb(db);
      await claimMail(traced.db, 'plan-test', Date.now(), 60_000, 10);
      const picks = traced.statements.filter((s) => /from outbox o\b/.test(s.sql) && /order by o\.id/.test(s.sql));
      assert.ok(picks.length >= 1, `the claim's selects were recorded:\n${traced.statements.map((s) => s.sql).join('\n')}`);
      for (const st of picks) {
        const lines = (await explain(db, st)).plan;
        // A temporary B-tree for the ORDER BY means every match was read and sorted (22 ms a claim at 60,000
        // queued messages, under the write lock) instead of the first `limit` along the index.
        assert.deepEqual(lines.filter((l) => /TEMP B-TREE|^SCAN o\b/.test(l)), [], `${st.sql}\n${lines.join('\n')}`);
        assert.ok(lines.some((l) => /^SEARCH o USING (COVERING )?INDEX outbox_sendable/.test(l)), lines.join('\n'));
      }
    } finally {
      await handle.drop();
    }
  });
});
