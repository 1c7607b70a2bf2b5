// The admin center's Migrations pages in a real browser (issue 10 §3-4), on the demo organization, both databases:
// a user whose conference ID changed while migrations were off is previewed from the start page (-WhatIf: each
// meeting's block diff, nothing written), started, and once the worker has finished (polled on the API) the
// request's page shows what happened to each meeting; Undo is refused because the old conference ID is gone, says
// why, and only then offers -Force, which restores; the list filters by state and by user with a plain GET form;
// requests that really failed (mailboxes on a CalDAV host that refuses connections) are all queued again by one
// button. Every page passes axe and is photographed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Page } from 'playwright-core';
import { browserSkip, screenshot, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { startAdminCenter, type AdminCenter } from './helpers/admin-center.js';
import { TEST_DATABASES } from './helpers/databases.js';

const CAMILLE = 'camille.dubois@contoso.com';

/** A local port nothing listens on (one just closed): connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Calls the REST API as the signed-in admin: a change from the page (the session cookie and the page's CSRF token), a
 * read with the page's cookies but outside it — a request's page reloads itself when the request's state changes,
 * which would destroy a read evaluated in it mid-way.
 */
async function apiCall(page: Page, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  if (method === 'GET') {
    const res = await page.context().request.get(new URL(url, page.url()).href, { headers: { accept: 'application/json' } });
    const text = await res.text();
    return { status: res.status(), body: text ? JSON.parse(text) : null };
  }
  return page.evaluate(async ([m, u, b]) => {
    const csrf = document.querySelector('meta[name="mms-csrf"]')?.getAttribute('content') ?? '';
    const res = await fetch(u as string, {
      method: m as string,
      headers: { accept: 'application/json', ...(m === 'GET' ? {} : { 'x-csrf-token': csrf }), ...(b === undefined ? {} : { 'content-type': 'application/json' }) },
      body: b === undefined ? undefined : JSON.stringify(b),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }, [method, url, body] as const);
}

async function ok(page: Page, method: string, url: string, body?: unknown): Promise<any> {
  const r = await apiCall(page, method, url, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Polls GET /api/v1/migrations?… until `done` holds for the rows (the worker runs in mms serve). */
async function waitForRequests(ac: AdminCenter, query: string, done: (rows: any[]) => boolean, what: string): Promise<any[]> {
  const deadline = Date.now() + 90_000;
  let rows: any[] = [];
  while (Date.now() < deadline) {
    rows = await ok(ac.page, 'GET', `/api/v1/migrations?${query}`);
    if (done(rows)) return rows;
    await ac.page.waitForTimeout(250); // a poll interval against the API, not a wait for the page
  }
  throw new Error(`timed out waiting for ${what}; last rows: ${JSON.stringify(rows)}\n${ac.output().slice(-3000)}`);
}

async function axeClean(page: Page, what: string): Promise<void> {
  assert.deepEqual(await seriousAxeViolations(page), [], what);
}

const cellTexts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));

describe('admin center: Migrations pages in a browser', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: a migration is previewed with its block diff, started, shown meeting by meeting, undone (-Force after the refusal), and the list filters by state and user`, { skip: t.skip, timeout: 300_000 }, async () => {
      const ac = await startAdminCenter(browser(), t);
      const page = ac.page;
      try {
        await page.goto(`${ac.base}/migrations`);
        // Camille's conference ID changes while migrations are off: her meetings' blocks are stale, nothing queued.
        await ok(page, 'PATCH', '/api/v1/migration-configuration', { MeetingMigrationEnabled: false });
        await ok(page, 'PATCH', `/api/v1/dial-in-users/${CAMILLE}`, { ResetConferenceId: true });
        await ok(page, 'PATCH', '/api/v1/migration-configuration', { MeetingMigrationEnabled: true });
        assert.deepEqual(await ok(page, 'GET', `/api/v1/migrations?Identity=${CAMILLE}`), []);

        // Start page: the users, then the preview (a GET form: the -WhatIf runs on the server).
        await page.click('a[href="/migrations/start"]');
        await page.waitForURL(`${ac.base}/migrations/start`);
        await page.fill('#mig-ids', CAMILLE);
        await page.click('#mig-start-users button[type=submit]');
        await page.waitForSelector('#mig-preview, main .alert');
        const alert = await page.$('main .alert');
        assert.equal(alert, null, (await alert?.textContent()) ?? '');
        assert.equal(new URL(page.url()).searchParams.get('Identity'), CAMILLE);
        const removed = await cellTexts(page, '#mig-preview li:first-child pre.mig-diff del');
        const added = await cellTexts(page, '#mig-preview li:first-child pre.mig-diff ins');
        assert.ok(removed.length > 0 && added.length > 0, 'the first meeting shows lines going and coming');
        assert.match(removed.join('\n'), /conférence/);
        assert.match(added.join('\n'), /conférence/);
        assert.notDeepEqual(removed.map((l) => l.replace(/^\D+/, '')), added.map((l) => l.replace(/^\D+/, '')));
        assert.ok((await cellTexts(page, '#mig-preview .mig-action')).includes('WouldUpdate'));
        // The preview wrote nothing.
        assert.deepEqual(await ok(page, 'GET', `/api/v1/migrations?Identity=${CAMILLE}`), []);
        await axeClean(page, '/migrations/start (preview)');
        await screenshot(page, `${t.name}-admin-migrations-start`);

        // Start: queued through the API; the answer links the new request.
        await page.click('#mig-start-form button[type=submit]');
        const link = await page.waitForSelector('#mig-start-form [data-result] a[href^="/migrations/"]');
        const id = ((await link.textContent()) ?? '').trim();
        assert.match(id, /^[0-9a-f-]{36}$/);
        // The request's page opened at once (the request may still be Pending or InProgress: the page then reloads
        // itself when the state changes), while the test waits for the end on the API.
        await link.click();
        await page.waitForURL(`${ac.base}/migrations/${id}`);
        const [done] = await waitForRequests(ac, `CorrelationId=${id}`, (rows) => rows[0]?.State === 'Succeeded' || rows[0]?.State === 'Failed', 'the migration to end');
        assert.equal(done.State, 'Succeeded', done.LastMessage);
        assert.ok(done.InvitesUpdate > 0);
        // The request's page reads it by -CorrelationId, whole or as the 8-character prefix -Wait prints.
        assert.deepEqual((await ok(page, 'GET', `/api/v1/migrations?CorrelationId=${id.slice(0, 8)}`)).map((r: any) => r.CorrelationId), [id]);
        assert.equal((await apiCall(page, 'GET', `/api/v1/migrations?CorrelationId=${id}&SummaryOnly=true`)).status, 400);
        await page.waitForFunction(() => document.querySelector('[data-status-field=State]')?.textContent?.trim() === 'Succeeded', undefined, { timeout: 15_000 });
        assert.equal((await page.textContent('[data-status-field=State]'))?.trim(), 'Succeeded');
        assert.equal((await page.textContent('[data-status-field=UserPrincipalName]'))?.trim(), CAMILLE);
        const headings = await cellTexts(page, '#mig-history thead th');
        assert.deepEqual(headings.slice(0, 5), ['Subject', 'Meeting starts', 'Action', 'Reason', 'Attendees notified']);
        const actions = await cellTexts(page, '#mig-history tbody td:nth-child(3)');
        assert.equal(actions.filter((a) => a === 'Updated').length, done.InvitesUpdate);
        const notified = (await cellTexts(page, '#mig-history tbody td:nth-child(5)')).map(Number);
        assert.ok(notified.some((n) => n > 0), 'attendees were notified');
        assert.equal(await page.isVisible('form.mig-retry'), false, 'no Retry for a request that succeeded');
        assert.equal(await page.isVisible('form.mig-undo-force'), false, '-Force is not offered before a refusal');
        await axeClean(page, '/migrations/:CorrelationId');
        await screenshot(page, `${t.name}-admin-migration-detail`);

        // Undo: refused (the old conference ID is gone from the directory), with the reason; then -Force.
        await page.click('form.mig-undo:not(.mig-undo-force) button');
        await page.waitForSelector('form.mig-undo-force:not([hidden])');
        assert.match((await page.textContent('form.mig-undo:not(.mig-undo-force) [data-result]')) ?? '', /no longer has.*-Force/);
        assert.equal(await page.getAttribute('form.mig-undo:not(.mig-undo-force) [data-result]', 'role'), 'alert');
        await axeClean(page, '/migrations/:CorrelationId (undo refused)');
        await screenshot(page, `${t.name}-admin-migration-undo-refused`);
        await page.click('form.mig-undo-force button');
        await page.waitForSelector('form.mig-undo-force [data-result].ok dl.mig-undo-report');
        const report = (await page.textContent('form.mig-undo-force [data-result]')) ?? '';
        assert.match(report, new RegExp(`Restored${done.InvitesUpdate}`));
        assert.match(report, /ForcedPast/);

        // The list: newest first, state in words; filtered by state, then by user with the form.
        await page.goto(`${ac.base}/migrations?State=Succeeded`);
        assert.equal(await page.inputValue('#mig-state'), 'Succeeded');
        const states = await cellTexts(page, '#mig-requests tbody td:nth-child(2)');
        assert.ok(states.length >= 1);
        assert.ok(states.every((s) => s === 'Succeeded'), states.join(', '));
        assert.ok(await page.$(`#mig-requests tbody a[href="/migrations/${id}"]`), 'the request links its page');
        await page.goto(`${ac.base}/migrations?State=Failed`);
        assert.equal(await page.textContent('main .empty'), 'Nothing to show.');
        await page.selectOption('#mig-state', '');
        await page.fill('#mig-user', 'meganb@contoso.com');
        await page.click('form.filters button[type=submit]');
        await page.waitForURL(/Identity=meganb/);
        assert.equal(await page.textContent('main .empty'), 'Nothing to show.');
        await page.fill('#mig-user', CAMILLE);
        await page.click('form.filters button[type=submit]');
        await page.waitForURL(/Identity=camille/);
        const users = await cellTexts(page, '#mig-requests tbody td:nth-child(1)');
        assert.ok(users.length >= 1 && users.every((u) => u === CAMILLE), users.join(', '));
        // Time: nothing was created after 2099; the field shows the filter it applied.
        await page.goto(`${ac.base}/migrations?StartTime=2099-01-01T00:00`);
        assert.equal(await page.inputValue('#mig-from'), '2099-01-01T00:00');
        assert.equal(await page.textContent('main .empty'), 'Nothing to show.');
        await page.goto(`${ac.base}/migrations?Identity=${CAMILLE}&StartTime=2026-01-01T00:00&EndTime=2099-01-01T00:00`);
        assert.ok((await cellTexts(page, '#mig-requests tbody td:nth-child(1)')).length >= 1);
        await page.fill('#mig-user', 'nobody@contoso.com');
        await page.click('form.filters button[type=submit]');
        await page.waitForSelector('main .alert[role=alert]');
        await page.goto(`${ac.base}/migrations`);
        await axeClean(page, '/migrations');
        await screenshot(page, `${t.name}-admin-migrations`);
        // In another language: the same list, its text in French.
        await page.goto(`${ac.base}/migrations?lang=fr`);
        assert.equal((await page.textContent('label[for=mig-state]'))?.trim(), 'État');
        assert.ok((await cellTexts(page, '#mig-requests tbody td:nth-child(2)')).every((s) => s === 'Réussie'));
        await page.goto(`${ac.base}/migrations?lang=en`);
      } finally {
        await ac.stop();
      }
    });

    it(`${t.name}: every user whose latest migration failed is queued again by one button; a failed request offers Retry`, { skip: t.skip, timeout: 300_000 }, async () => {
      // One attempt: a host that refuses connections fails a request at once instead of retrying for a day.
      const ac = await startAdminCenter(browser(), t, { env: { MMS_RETRY_ATTEMPTS: '1' } });
      const page = ac.page;
      const failing = ['meganb@contoso.com', 'adelev@contoso.com'];
      try {
        await page.goto(`${ac.base}/migrations`);
        assert.equal(await page.$('.mig-retry-all'), null, 'nothing to retry yet');
        const dav = `http://127.0.0.1:${await closedPort()}`;
        await ok(page, 'POST', '/api/v1/mailbox-hosts', { Name: 'Refusing', Type: 'CalDav', Url: `${dav}/` });
        // The calendar is named, so the service connects to it at once, and the connection is refused.
        for (const u of failing) await ok(page, 'PUT', `/api/v1/users/${u}/mailbox`, { MailboxHost: 'Refusing', CalendarUrl: `${dav}/${u}/calendar/` });
        await ok(page, 'POST', '/api/v1/migrations', { Identity: failing });
        const failed = await waitForRequests(ac, 'State=Failed', (rows) => failing.every((u) => rows.some((r) => r.UserPrincipalName === u)), 'both migrations to fail');
        for (const r of failed) assert.match(r.LastMessage, /ECONNREFUSED|refused/i, r.LastMessage);

        await page.goto(`${ac.base}/migrations`);
        assert.match((await page.textContent('.mig-retry-all')) ?? '', /2 users/);
        const failedStates = await cellTexts(page, '#mig-requests tbody td:nth-child(2)');
        assert.ok(failedStates.filter((s) => s === 'Failed').length >= 2, failedStates.join(', '));
        await axeClean(page, '/migrations (failures)');
        await screenshot(page, `${t.name}-admin-migrations-failed`);

        // A failed request's page offers Retry.
        const one = failed.find((r) => r.UserPrincipalName === failing[0])!;
        await page.goto(`${ac.base}/migrations/${one.CorrelationId}`);
        assert.equal((await page.textContent('[data-status-field=State]'))?.trim(), 'Failed');
        assert.ok(await page.isVisible('form.mig-retry button'));
        await axeClean(page, '/migrations/:CorrelationId (failed)');
        await screenshot(page, `${t.name}-admin-migration-failed-detail`);

        // Retry all failed: one POST of both users; each gets a new request, which really runs (and fails again).
        await page.goto(`${ac.base}/migrations`);
        await page.click('.mig-retry-all button');
        await page.waitForSelector('.mig-retry-all [data-result].ok table');
        const queued = await cellTexts(page, '.mig-retry-all [data-result] tbody td:first-child');
        assert.deepEqual([...queued].sort(), [...failing].sort());
        assert.equal(await page.$$eval('.mig-retry-all [data-result] a[href^="/migrations/"]', (as) => as.length), 2);
        await waitForRequests(ac, 'State=Failed', (rows) => failing.every((u) => rows.filter((r) => r.UserPrincipalName === u).length === 2), 'the retries to run');
      } finally {
        await ac.stop();
      }
    });
  }
});
