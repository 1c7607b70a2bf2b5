// The reads behind the dashboard (issue 10 §3), without a browser: Get-MmsMigrationRate counts the meetings
// migrations rewrote per interval (the history's Updated rows, nothing else) and says whether a worker runs, with the
// CLI's wording when none does; Get-CsMeetingMigrationStatus -Latest leaves out a Failed request once the user was
// queued again. Both databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../src/config.js';
import type { CmdletContext } from '../src/cli/cmdlet.js';
import { RATE_CMDLETS } from '../src/cli/cmdlets/rate-cmdlets.js';
import { setDialInUser } from '../src/directory/index.js';
import { startMigration } from '../src/migration/index.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { MIGRATION_DELAY_MS as DELAY } from './helpers/directory-fixture.js';
import { MINUTE, REF, withQueue, type QueueFixture } from './helpers/queue-fixture.js';

type Row = Record<string, unknown>;

async function json(q: QueueFixture, ...argv: string[]): Promise<unknown> {
  const r = await q.cli([...argv, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

for (const database of TEST_DATABASES) {
  describe(`${database.name}: the dashboard's reads`, { skip: database.skip }, () => {
    it('Get-MmsMigrationRate counts the meetings a migration rewrote in their minute, and only those', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 3);
        await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        t = REF + DELAY;
        assert.equal(await q.worker('w').runOnce(), true);
        const updated = await q.db.kysely.selectFrom('migration_meetings').select(['at', 'action']).execute();
        assert.deepEqual(updated.map((u) => u.action), ['Updated', 'Updated', 'Updated']);
        const minute = Math.floor(Number(updated[0]!.at) / MINUTE) * MINUTE;
        t = REF + 10 * MINUTE;
        const rate = (await json(q, 'Get-MmsMigrationRate')) as Row;
        assert.equal(rate.Total, 3);
        assert.deepEqual(rate.Intervals, [{ StartTime: new Date(minute).toISOString(), Meetings: 3 }]);
        assert.equal(rate.IntervalMinutes, 1);
        assert.equal(Date.parse(String(rate.EndTime)) - Date.parse(String(rate.StartTime)), 24 * 60 * MINUTE, 'the last day');
        assert.equal(rate.WorkerRunning, true);
        assert.equal(rate.WorkerNotice, '');
        // A window that ends before the migration holds none; hours as intervals put them in their hour.
        const before = (await json(q, 'Get-MmsMigrationRate', '-EndTime', new Date(minute).toISOString())) as Row;
        assert.deepEqual([before.Total, before.Intervals], [0, []]);
        const hourly = (await json(q, 'Get-MmsMigrationRate', '-IntervalMinutes', '60')) as Row;
        assert.deepEqual(hourly.Intervals, [{ StartTime: new Date(Math.floor(minute / (60 * MINUTE)) * 60 * MINUTE).toISOString(), Meetings: 3 }]);

        const zero = await q.cli(['Get-MmsMigrationRate', '-IntervalMinutes', '0']);
        assert.deepEqual([zero.code, zero.stderr], [2, 'mms: -IntervalMinutes 0 is not a whole number of minutes of 1 or more\n']);
        const year = await q.cli(['Get-MmsMigrationRate', '-StartTime', '2025-01-01']);
        assert.equal(year.code, 2);
        assert.match(year.stderr, /more than 10000: give a larger -IntervalMinutes or a shorter window/);
      });
    });

    it('Get-MmsMigrationRate says when no worker runs, in the words the CLI warns with', () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        // The fixture's cli() beats as a worker; run the cmdlet on a database no worker ever beat on.
        // A config of its own: the cmdlet's directory context opens the secret box of the database's URL (issue 12's PINs).
        const ctx = { db: q.db, config: { databaseUrl: ':memory:' } as Config, tenant: undefined, now: () => t, actor: 'test' } as unknown as CmdletContext;
        const r = await RATE_CMDLETS[0]!.run(ctx, {});
        assert.equal(r.kind, 'object');
        const v = r.kind === 'object' ? r.value : {};
        assert.equal(v.WorkerRunning, false);
        assert.equal(v.WorkerLastSeenAt, null);
        assert.equal(v.WorkerNotice, 'no mms serve worker is running on this database (none has a heartbeat); start one with npm start (or npx mms serve; as a systemd service: sudo systemctl enable --now mms)');
      });
    });

    it('Get-CsMeetingMigrationStatus -Latest leaves out a Failed request once the user was queued again', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const [first] = await startMigration(q.db, q.fx.tenant, [q.upn('ben')], { actor: 'admin@contoso.com', now: () => t });
        assert.equal(first?.status, 'Queued');
        // His mailbox moved on-premises meanwhile (Exchange does that; no MMS cmdlet does): the migration fails.
        await q.db.kysely.updateTable('users').set({ mailbox_location: 'OnPremises' }).where('id', '=', await q.userId('ben')).execute();
        assert.equal(await q.worker('w').runOnce([first?.status === 'Queued' ? first.correlationId : '']), true);
        const failed = (await json(q, 'Get-CsMeetingMigrationStatus', '-State', 'Failed', '-Latest')) as Row[];
        assert.deepEqual(failed.map((r) => r.CorrelationId), [first?.status === 'Queued' ? first.correlationId : '']);
        t = REF + MINUTE;
        await q.db.kysely.updateTable('users').set({ mailbox_location: 'Online' }).where('id', '=', await q.userId('ben')).execute();
        await startMigration(q.db, q.fx.tenant, [q.upn('ben')], { actor: 'admin@contoso.com', now: () => t });
        assert.equal(((await json(q, 'Get-CsMeetingMigrationStatus', '-State', 'Failed')) as Row[]).length, 1, 'the history keeps it');
        assert.deepEqual(await json(q, 'Get-CsMeetingMigrationStatus', '-State', 'Failed', '-Latest'), []);
        assert.deepEqual(((await json(q, 'Get-CsMeetingMigrationStatus', '-Latest')) as Row[]).map((r) => r.State), ['Pending']);
      });
    });
  });
}
