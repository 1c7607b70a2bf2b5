// The admin center's side of the Teams conversion triggers (issue 12 §2), in a real browser on the demo and both
// databases: the settings page shows MeetingMigrationSourceMeetingTypes / MeetingMigrationTargetMeetingTypes as
// selects a TenantAdmin saves through the REST API, and the Start form queues the MigrationType its two selects name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkip, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { startAdminCenter, type AdminCenter } from './helpers/admin-center.js';
import { TEST_DATABASES } from './helpers/databases.js';

const CAMILLE = 'camille.dubois@contoso.com';

/** A GET of the REST API with the admin's session (reads need no CSRF token). */
async function apiGet(ac: AdminCenter, path: string): Promise<any> {
  const res = await ac.context.request.get(`${ac.base}${path}`, { headers: { accept: 'application/json' } });
  assert.equal(res.status(), 200, `${path}: ${await res.text()}`);
  return res.json();
}

describe('admin center: Teams conversion settings and start form in a browser', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: the meeting-type settings save through their selects, and Start with TargetMeetingType Teams queues AllToTeams`, { skip: t.skip, timeout: 300_000 }, async () => {
      const ac = await startAdminCenter(browser(), t);
      const page = ac.page;
      try {
        await page.goto(`${ac.base}/settings`);
        assert.equal(await page.inputValue('#setting-MeetingMigrationSourceMeetingTypes'), 'All');
        assert.equal(await page.inputValue('#setting-MeetingMigrationTargetMeetingTypes'), 'Teams');
        assert.match((await page.textContent('#setting-MeetingMigrationTargetMeetingTypes-what')) ?? '', /Current never converts/);
        assert.deepEqual(await seriousAxeViolations(page), [], '/settings');
        await page.selectOption('#setting-MeetingMigrationTargetMeetingTypes', 'Current');
        await page.click('#migration-form button[type=submit]');
        await page.waitForSelector('#migration-form [data-result].result.ok');
        const config = await apiGet(ac, '/api/v1/migration-configuration');
        assert.equal(config.MeetingMigrationTargetMeetingTypes, 'Current');
        assert.equal(config.MeetingMigrationSourceMeetingTypes, 'All');

        // Start is an explicit request: the tenant's Current does not narrow it.
        await page.goto(`${ac.base}/migrations/start?Identity=${encodeURIComponent(CAMILLE)}`);
        await page.waitForSelector('#mig-start-form');
        assert.equal(await page.inputValue('#mig-SourceMeetingType'), 'All');
        assert.equal(await page.inputValue('#mig-TargetMeetingType'), 'Current');
        assert.deepEqual(await seriousAxeViolations(page), [], '/migrations/start');
        await page.selectOption('#mig-TargetMeetingType', 'Teams');
        await page.click('#mig-start-form button[type=submit]');
        const link = await page.waitForSelector('#mig-start-form [data-result] a[href^="/migrations/"]');
        const id = ((await link.textContent()) ?? '').trim();
        const [request] = await apiGet(ac, `/api/v1/migrations?CorrelationId=${id}`);
        assert.equal(request?.MigrationType, 'AllToTeams');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- mms serve output (tail) ---\n${ac.output().slice(-3000)}`, { cause: err });
      } finally {
        await ac.stop();
      }
    });
  }
});
