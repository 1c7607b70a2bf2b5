// The admin center's dashboard in a real browser (issue 10 §3-4), on `mms serve` with the demo organization: the
// state tiles say what -SummaryOnly says and follow a change made through the API without a reload; a migration
// draws the per-minute chart and its table holds the same counts as the history; a migration that really fails (a
// CalDAV mailbox whose password the server refuses) is listed with its LastMessage, and once the admin fixed what the
// message says, Retry on the dashboard queues the user again and the migration succeeds. Axe and screenshots. Both
// databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { newMailboxHost, resolveTenant, setUserMailbox, type DirectoryContext } from '../src/directory/index.js';
import { secretBoxFor } from '../src/secrets/index.js';
import { browserSkip, screenshot, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { startAdminCenter, type AdminCenter } from './helpers/admin-center.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { RadicaleServer, RADICALE_SKIP } from './helpers/radicale.js';

type Row = Record<string, unknown>;

/** A REST call as the signed-in admin (the session cookie, and the page's CSRF token for changes). */
async function api(ac: AdminCenter, method: 'GET' | 'POST' | 'PATCH', path: string, data?: unknown): Promise<unknown> {
  const csrf = (await ac.page.getAttribute('meta[name="mms-csrf"]', 'content')) ?? '';
  const res = await ac.context.request.fetch(`${ac.base}${path}`, { method, headers: method === 'GET' ? {} : { 'x-csrf-token': csrf }, data });
  assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`);
  return res.json();
}

/** Polls the API until `done` holds for the user's requests (the worker of `mms serve` runs them). */
async function waitForRequests(ac: AdminCenter, upn: string, done: (rows: Row[]) => boolean, what: string): Promise<Row[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = (await api(ac, 'GET', `/api/v1/migrations?Identity=${encodeURIComponent(upn)}`)) as Row[];
    if (done(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`${upn}: ${what} did not happen within 60 s: ${JSON.stringify(rows)}\n${ac.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const tile = (page: Page, state: string) => page.textContent(`#dash-summary [data-state="${state}"]`);

describe('admin center dashboard in a browser', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: the tiles say what -SummaryOnly says and follow a change made through the API without a reload; a migration draws the chart and its table has the counts`, { skip: t.skip, timeout: 240_000 }, async () => {
      const ac = await startAdminCenter(browser(), t, { env: { MMS_MIGRATION_DELAY: '0' } });
      const page = ac.page;
      try {
        const res = await page.goto(`${ac.base}/`);
        assert.equal(res?.status(), 200, await page.textContent('main') ?? '');
        const summary = (await api(ac, 'GET', '/api/v1/migrations?SummaryOnly=true')) as Row[];
        for (const r of summary) assert.equal(await tile(page, String(r.State)), String(r.UserCount), `tile ${String(r.State)}`);
        assert.equal(await page.isHidden('#dash-worker'), true, 'mms serve runs a worker: no warning');
        assert.match(await page.textContent('#dash-failed') ?? '', /No failed migrations/);
        assert.match(await page.textContent('#dash-rate') ?? '', /No meeting was migrated/);
        const succeededBefore = Number(await tile(page, 'Succeeded'));

        // A change that migrates meetings, made through the API while the page is open.
        await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
        const upn = 'meganb@contoso.com';
        await api(ac, 'PATCH', `/api/v1/dial-in-users/${upn}`, { ResetConferenceId: true });
        const rows = await waitForRequests(ac, upn, (r) => r.some((x) => x.State === 'Succeeded'), 'a Succeeded migration');
        const migrated = Number(rows.find((x) => x.State === 'Succeeded')?.SucceededMeeting);
        assert.ok(migrated > 0, `meetings were rewritten: ${JSON.stringify(rows)}`);
        await page.waitForFunction((n) => document.querySelector('#dash-summary [data-state="Succeeded"]')?.textContent === String(n), succeededBefore + 1);
        assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'no reload');

        // The chart: uPlot's canvas, and the numbers drawn are the migrated meetings; the table says the same.
        await page.waitForFunction(() => Number((document.getElementById('dash-chart') as HTMLElement | null)?.dataset.drawn ?? 0) > 0);
        assert.equal(await page.locator('#dash-chart canvas').count(), 1);
        const history = (await api(ac, 'GET', `/api/v1/users/${upn}/migration-history`)) as Row[];
        const updated = history.filter((h) => h.Action === 'Updated').length;
        const rate = (await api(ac, 'GET', '/api/v1/migration-rate')) as Row;
        assert.equal(rate.Total, updated, 'Get-MmsMigrationRate counts the history\'s Updated rows');
        assert.equal(Number(await page.getAttribute('#dash-chart', 'data-drawn')), updated);
        const cells = await page.locator('#dash-rate-table tbody td').allTextContents();
        assert.equal(cells.reduce((s, c) => s + Number(c), 0), updated, 'the fallback table has the counts');
        assert.match(await page.textContent('#dash-rate-total') ?? '', new RegExp(`^${updated} meetings migrated`));
        // The outbox tiles: the counts Get-MmsOutbox answers for each state.
        for (const state of ['Applied', 'Queued']) {
          const r = await ac.context.request.get(`${ac.base}/api/v1/outbox?State=${state}&First=0`);
          await page.waitForFunction(([s, n]) => document.querySelector(`#dash-outbox [data-outbox="${s}"]`)?.textContent === n, [state, r.headers()['x-total-count'] ?? '0']);
        }
        await page.click('#dash-rate-numbers summary');
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-admin-dashboard-live`);
      } finally {
        await ac.stop();
      }
    });

    it(`${t.name}: a failed migration is listed with its LastMessage, and Retry on the dashboard runs it again once the admin fixed it`, { skip: t.skip ?? RADICALE_SKIP, timeout: 240_000 }, async () => {
      const upn = 'adelev@contoso.com';
      const password = `adelev-${randomBytes(6).toString('hex')}`;
      const radicale = await RadicaleServer.start([{ name: 'adelev', password }]);
      const key = randomBytes(32);
      const ac = await startAdminCenter(browser(), t, { env: { MMS_MIGRATION_DELAY: '0', MMS_SECRET_KEY: key.toString('base64') } });
      const page = ac.page;
      try {
        const calendarUrl = await radicale.makeCalendar('adelev', 'calendar');
        // Her mailbox on a CalDAV server, with a password it refuses (what the admin would do with -PasswordFile).
        const db = ac.fresh.db;
        const ctx: DirectoryContext = { db, actor: 'test', now: () => Date.now(), migrationDelayMs: 0 };
        const tenant = await resolveTenant(db, undefined);
        const box = secretBoxFor({ secretKey: key, dialect: db.dialect });
        await newMailboxHost(ctx, tenant.id, { name: 'Radicale', type: 'CalDav', url: `${radicale.url}/` }, box);
        await setUserMailbox(ctx, tenant.id, upn, { hostName: 'Radicale', calendarUrl, userName: 'adelev', password: 'not-her-password' }, box);

        await page.goto(`${ac.base}/`);
        const failedBefore = Number(await tile(page, 'Failed'));
        await api(ac, 'POST', '/api/v1/migrations', { Identity: [upn] });
        const rows = await waitForRequests(ac, upn, (r) => r.some((x) => x.State === 'Failed'), 'a Failed migration');
        const lastMessage = String(rows.find((x) => x.State === 'Failed')?.LastMessage);
        assert.match(lastMessage, /mailbox host 'Radicale' \(adelev@contoso\.com\): .*401 Unauthorized: the user name or password is wrong/);

        // Listed live, with the message that says what to do.
        const row = page.locator('#dash-failed-table tbody tr', { has: page.locator(`th:text-is("${upn}")`) });
        await row.waitFor();
        assert.equal((await row.locator('td.message').textContent())?.trim(), lastMessage);
        assert.equal(await tile(page, 'Failed'), String(failedBefore + 1));
        assert.match(await page.textContent('#dash-retry-all button') ?? '', /Retry all failed \(1\)/);
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-admin-dashboard-failed`);

        // The admin fixes the password, then retries from the dashboard with the keyboard.
        await setUserMailbox(ctx, tenant.id, upn, { hostName: 'Radicale', calendarUrl, userName: 'adelev', password }, box);
        await row.locator('button').focus();
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => /Queued/.test(document.getElementById('dash-retry-result')?.textContent ?? ''));
        const after = await waitForRequests(ac, upn, (r) => r.length === 2 && r[1]!.State === 'Succeeded', 'the retried migration succeeding');
        assert.equal(after[0]!.State, 'Failed', 'the failed request stays in the history');
        // The failed row leaves the list, and the tiles follow, without a reload.
        await row.waitFor({ state: 'detached' });
        await page.waitForFunction((n) => document.querySelector('#dash-summary [data-state="Failed"]')?.textContent === String(n), failedBefore);
        assert.match(await page.textContent('#dash-failed') ?? '', /No failed migrations/);
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-admin-dashboard-retried`);
      } finally {
        await ac.stop();
        await radicale.dispose();
      }
    });
  }
});
