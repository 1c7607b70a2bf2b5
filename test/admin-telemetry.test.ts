// The admin center's Telemetry page in a real browser (issue 11 §5), on `mms serve` with the demo organization:
// census events posted to the real ingestion endpoint with the tenant's key are drawn per day (uPlot's canvas) and
// listed in the table beside it with the same numbers (a day without events a gap); by OS name the groups under
// MinGroupSize are not shown but counted; error reports' top codes are drawn as bars (a code fewer than MinGroupSize
// users sent is left out); a report that cannot be made says why; the form is used with the keyboard alone; a
// ReadOnly admin may view. Axe and screenshots. Both databases. The admin center reports its own census
// (client-telemetry.js) while the test views it, today: the page is asked for whole days that end at today's 00:00Z,
// which that census is not in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { browserSkip, screenshot, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { signedInContext, startAdminCenter, type AdminCenter } from './helpers/admin-center.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { census, DAY, deviceId, errorReport } from './helpers/telemetry-fixture.js';

/** A REST call as the signed-in admin (the session cookie, and the page's CSRF token for changes). */
async function api(ac: AdminCenter, method: 'GET' | 'POST' | 'PATCH', path: string, data?: unknown): Promise<any> {
  const csrf = (await ac.page.getAttribute('meta[name="mms-csrf"]', 'content')) ?? '';
  const res = await ac.context.request.fetch(`${ac.base}${path}`, { method, headers: method === 'GET' ? {} : { 'x-csrf-token': csrf }, data });
  assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`);
  return res.json();
}

/** The census the page is checked against: per day (days ago) the OS and how many users. */
const GROUPS = [{ ago: 3, os: 'Android', users: 4 }, { ago: 3, os: 'Linux', users: 3 }, { ago: 2, os: 'Windows', users: 5 }, { ago: 1, os: 'iPhoneiOS', users: 6 }];

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** The form's EndTime (datetime-local, UTC) of today's 00:00Z: the window is the whole days before today. */
const beforeToday = () => `${day(Date.now())}T00:00`;
const tableRows = (page: Page) => page.$$eval('#tel-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));

describe('admin center Telemetry page in a browser', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: draws the census per day with the table beside it, hides groups under MinGroupSize, draws the top error codes, says why a report cannot be made; keyboard and ReadOnly`, { skip: t.skip, timeout: 240_000 }, async () => {
      const ac = await startAdminCenter(browser(), t, { env: { MMS_TELEMETRY_KEY: randomBytes(32).toString('base64') } });
      const page = ac.page;
      try {
        await page.goto(`${ac.base}/`);
        const { IngestionKey: key } = await api(ac, 'POST', '/api/v1/telemetry-configuration/ingestion-key');
        const times: number[] = [];
        for (const g of GROUPS) {
          const at = Date.now() - g.ago * DAY;
          times.push(at);
          const events = Array.from({ length: g.users }, (_, i) => census(`${g.os}${i}@contoso.com`, deviceId(), { OsName: g.os, Time: new Date(at).toISOString() }));
          const res = await ac.context.request.post(`${ac.base}/telemetry/v1/census`, { headers: { authorization: `MmsTelemetry ${key}` }, data: { Events: events } });
          assert.equal(res.status(), 200, await res.text());
          assert.equal((await res.json()).Accepted, g.users);
        }

        // Census per day (the page's default): a point per day, and the table has the same users.
        const endTime = beforeToday();
        assert.equal((await page.goto(`${ac.base}/telemetry?EndTime=${endTime}`))?.status(), 200);
        await page.waitForSelector('#tel-chart[data-points="3"]');
        assert.equal(await page.locator('#tel-chart canvas').count(), 1);
        const expected = [[day(times[0]!), '7'], [day(times[2]!), '5'], [day(times[3]!), '6']];
        assert.deepEqual((await tableRows(page)).map((r) => [r[0], r[1]]), expected);
        assert.deepEqual((await api(ac, 'GET', `/api/v1/telemetry-report?Kind=Census&GroupBy=Day&EndTime=${endTime}Z`)).map((r: any) => [r.Group, String(r.Users)]), expected);
        assert.equal(await page.$('#tel-hidden'), null, 'no group is hidden per day');
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-admin-telemetry`);

        // By OS, with the keyboard alone: Android (4) and Linux (3) are not shown, only counted.
        await page.focus('#tel-GroupBy');
        await page.keyboard.press('Home');
        for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowDown');
        assert.equal(await page.inputValue('#tel-GroupBy'), 'OsName');
        await page.focus('#tel-form button[type=submit]');
        await Promise.all([page.waitForURL(/GroupBy=OsName/), page.keyboard.press('Enter')]);
        assert.equal(await page.inputValue('#tel-EndTime'), endTime, 'the form keeps the window');
        await page.waitForSelector('#tel-chart[data-points="2"]');
        assert.deepEqual((await tableRows(page)).map((r) => [r[0], r[1]]), [['iPhoneiOS', '6'], ['Windows', '5']]);
        assert.match(await page.textContent('#tel-hidden') ?? '', /^2 group\(s\) not shown on some or all days: fewer than 5 distinct users that day.*They hold 7 events\.$/);
        assert.doesNotMatch(await page.textContent('main') ?? '', /Android|Linux/);
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-admin-telemetry-by-os`);

        // Error reports of yesterday: the most reported codes as bars, the table's TopErrorCodes the same; 0x80004005,
        // sent by 2 users, is not named (an error code is free text that could tell who sent it).
        const yesterday = new Date(Date.now() - DAY).toISOString();
        for (let i = 0; i < 5; i++) {
          const user = `err${i}@contoso.com`;
          await api(ac, 'PATCH', `/api/v1/user-telemetry`, { Identity: user, ErrorReportingOptIn: true });
          const reports = [errorReport(user, deviceId(), { ErrorCode: '0x8007', Time: yesterday }), ...(i < 2 ? [errorReport(user, deviceId(), { ErrorCode: '0x80004005', Time: yesterday })] : [])];
          const res = await ac.context.request.post(`${ac.base}/telemetry/v1/error`, { headers: { authorization: `MmsTelemetry ${key}` }, data: { Events: reports } });
          assert.equal((await res.json()).Accepted, reports.length);
        }
        await page.goto(`${ac.base}/telemetry?Kind=Error&GroupBy=&EndTime=${endTime}`);
        await page.waitForSelector('#tel-chart[data-points="1"]');
        assert.equal(await page.getAttribute('#tel-chart', 'aria-label'), 'Chart of the most reported error codes; the table has the same numbers.');
        assert.deepEqual(await tableRows(page), [['All', '5', '7', '7', '0x8007 (5)']]);
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-admin-telemetry-errors`);

        // A report that cannot be made: the form stays, with the reason and the fix.
        await page.goto(`${ac.base}/telemetry?Kind=Usage&GroupBy=OsName`);
        assert.match(await page.textContent('[role=alert]') ?? '', /-GroupBy OsName needs -Kind Census/);
        assert.ok(await page.$('#tel-form'));

        // Five users five days ago: the day between them and the others has no events, a gap in the line, not a
        // stroke across it (a slot per day, a point per day with events).
        const early = Array.from({ length: 5 }, (_, i) => census(`early${i}@contoso.com`, deviceId(), { Time: new Date(Date.now() - 5 * DAY).toISOString() }));
        const posted = await ac.context.request.post(`${ac.base}/telemetry/v1/census`, { headers: { authorization: `MmsTelemetry ${key}` }, data: { Events: early } });
        assert.equal((await posted.json()).Accepted, 5);

        // A ReadOnly admin views it, and is offered no change.
        const made = await runMms({ MMS_DATABASE_URL: ac.fresh.url }, Date.now, ['New-MmsAdmin', 'viewer', '-Role', 'ReadOnly', '-Tenant', 'Contoso', '--json']);
        assert.equal(made.code, 0, made.err);
        const viewer = await signedInContext(browser(), ac.base, (JSON.parse(made.out) as { SignInLink: string }).SignInLink, 'viewer', 'fr-FR');
        try {
          const vp = await viewer.newPage();
          assert.equal((await vp.goto(`${ac.base}/telemetry?EndTime=${endTime}`))?.status(), 200);
          await vp.waitForSelector('#tel-chart[data-points="4"]');
          assert.equal(await vp.getAttribute('#tel-chart', 'data-slots'), '5');
          assert.deepEqual((await tableRows(vp)).map((r) => r[1]), ['5', '7', '5', '6']);
          assert.equal(await vp.textContent('h1'), 'Télémétrie');
          assert.deepEqual(await vp.$$eval('form[data-api]', (fs) => fs.length), 0);
          assert.deepEqual(await seriousAxeViolations(vp), []);
        } finally {
          await viewer.close();
        }
      } finally {
        await ac.stop();
      }
    });
  }
});
