// Start-CsExMeetingMigration -TargetMeetingType Teams keeps the conversion's own preconditions (review of issue 12):
// a user homed on-premises or on a third-party provider is refused with the reason and the fix, as the trigger
// rules refuse them, while the same users' ToSameType start is queued; a convertible user is queued SfbToTeams.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { withDirectoryFixture } from './helpers/directory-fixture.js';
import { startMigration } from '../src/migration/index.js';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Start-CsExMeetingMigration to Teams`, { skip: t.skip }, () => {
    it('refuses users homed on-premises or on a third-party provider, queues the others', () =>
      withDirectoryFixture(t, async (fx) => {
        const start = (names: string[], type: 'SfbToTeams' | 'ToSameType') =>
          startMigration(fx.db, fx.tenant, names.map((n) => fx.upn(n)), { actor: 'admin@contoso.com', now: () => fx.clock.now }, type);
        const teams = await start(['amy', 'cara', 'eve', 'lee'], 'SfbToTeams');
        assert.deepEqual(teams.map((r) => r.status), ['Queued', 'Failed', 'Failed', 'Failed']);
        const reasons = teams.map((r) => (r.status === 'Failed' ? r.reason : ''));
        assert.match(reasons[1]!, /homed on-premises: only online users' meetings are converted to Teams; Move-CsUser -Identity cara@\S+ -Target Online -MoveToTeams/);
        assert.match(reasons[2]!, /third-party audio conferencing provider .*-ReplaceProvider/);
        assert.match(reasons[3]!, /homed on-premises/);
        const same = await start(['cara', 'eve'], 'ToSameType');
        assert.deepEqual(same.map((r) => r.status), ['Queued', 'Queued'], JSON.stringify(same));
        const amy = (await fx.requests('amy'))[0];
        assert.equal(amy?.migrationType, 'SfbToTeams');
      }));
  });
}
