// The admin center's audio conferencing users pages in a real browser (issue 10 §3-4), on the demo organization:
// three licensed users on the third-party provider (Intercall) are moved to Microsoft end to end — banner, the
// "ready to be moved" filter, selection, a confirmation listing their old dial-in information, save, per-user
// results — and their meetings are migrated (status Succeeded, the organizer's copy carries the new Microsoft
// conference ID). A Reset PIN from the user detail shows its result, writes the audit log as web:admin and never
// shows a PIN. Filters and search narrow the list exactly as the API's rows say. Every page passes axe and is
// photographed. Both databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { APIRequestContext, Page } from 'playwright-core';
import { browserSkip, screenshot, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { startAdminCenter, type AdminCenter } from './helpers/admin-center.js';
import { TEST_DATABASES } from './helpers/databases.js';

type Row = Record<string, unknown>;

/** The REST API as the signed-in admin (the session cookie and its CSRF token). */
async function restClient(ac: AdminCenter) {
  const request: APIRequestContext = ac.context.request;
  const session = await request.get(`${ac.base}/api/v1/session`);
  const csrf = ((await session.json()) as { CsrfToken: string }).CsrfToken;
  return async <T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'PUT', path: string, data?: unknown): Promise<T> => {
    const res = await request.fetch(`${ac.base}${path}`, { method, headers: { 'x-csrf-token': csrf }, data: data as Record<string, unknown> | undefined });
    const body = await res.text();
    assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${body}`);
    return JSON.parse(body) as T;
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const listed = (page: Page) => page.$$eval('#users tbody tr td a[href^="/users/"] + br + .hint', (els) => els.map((e) => e.textContent ?? '').sort());

async function checkPage(page: Page, name: string, label: string): Promise<void> {
  assert.deepEqual(await seriousAxeViolations(page), [], label);
  await screenshot(page, name);
}

const READY = ['henriettam@contoso.com', 'irvins@contoso.com', 'miriamg@contoso.com'];

describe('admin center: audio conferencing users', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: three ready users are moved to the Microsoft provider from the banner to their migrated meetings`, { skip: t.skip, timeout: 300_000 }, async () => {
      const ac = await startAdminCenter(browser(), t, { env: { MMS_MIGRATION_DELAY: '0' } });
      const page = ac.page;
      try {
        const api = await restClient(ac);
        // The demo has one ready user (irvins) and one on Intercall without the licence (henriettam); a third is put on
        // Intercall and both are licensed, through the REST API as an admin would.
        await api('PUT', '/api/v1/users/miriamg@contoso.com/acp', { Name: 'Intercall', TollNumber: '+16465550100', TollFreeNumber: '+18775550100', ParticipantPasscode: '5550123' });
        // Before the licence, the confirmation's preview (Enable -ReplaceProvider -WhatIf) says the move would be refused.
        await page.goto(`${ac.base}/users/move?Identity=henriettam@contoso.com`);
        assert.match((await page.textContent('#old-dial-in tbody tr td:last-child')) ?? '', /^Will be refused: henriettam@contoso\.com has no Audio Conferencing licence/);
        for (const who of ['henriettam@contoso.com', 'miriamg@contoso.com']) await api('PATCH', `/api/v1/users/${who}/licenses`, { AddLicenses: ['AudioConferencing'] });
        const before = await api<Row[]>('GET', '/api/v1/dial-in-users?ReadyToMove=true');
        assert.deepEqual(before.map((r) => r.Identity).sort(), READY);

        await page.goto(`${ac.base}/users`);
        assert.match((await page.textContent('#ready-banner')) ?? '', /^3 users have the Audio Conferencing licence but not Microsoft as provider/);
        await checkPage(page, `${t.name}-admin-users`, 'users list');
        await page.click('#ready-banner a');
        await page.waitForURL(/\/users\?ready=1$/);
        assert.deepEqual(await listed(page), READY);
        assert.equal(await page.isChecked('#f-ready'), true);

        for (const box of await page.$$('#users tbody input[type=checkbox]')) await box.check();
        await page.click('#move-selected');
        await page.waitForURL(/\/users\/move\?/);
        // The confirmation: each user's current dial-in information, to record before it changes.
        const old = await page.$$eval('#old-dial-in tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '')));
        assert.equal(old.length, 3);
        const passcodes: Record<string, string> = { 'irvins@contoso.com': '4711083', 'henriettam@contoso.com': '9902215', 'miriamg@contoso.com': '5550123' };
        for (const who of READY) {
          const row = old.find((cells) => cells[0]?.includes(who));
          assert.ok(row, `${who} is on the confirmation`);
          assert.deepEqual(row.slice(1, 5), ['Intercall', '+16465550100', '+18775550100', passcodes[who]]);
          assert.match(row[5] ?? '', /^Will migrate meetings:/);
        }
        assert.match((await page.textContent('main .banner')) ?? '', /will change/);
        await checkPage(page, `${t.name}-admin-users-move`, 'move confirmation');

        await page.click('#move-save button[type=submit]');
        await page.waitForSelector('#move-results table');
        const results = await page.$$eval('#move-results table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
        const heads = await page.$$eval('#move-results table thead th', (ths) => ths.map((th) => th.textContent ?? ''));
        const col = (name: string) => heads.indexOf(name);
        assert.equal(results.length, 3);
        const correlation = new Map<string, string>();
        for (const r of results) {
          assert.equal(r[col('Status')], 'Done', r.join(' | '));
          assert.equal(r[col('MeetingMigration')], 'Queued', r.join(' | '));
          correlation.set(r[col('Identity')]!, r[col('CorrelationId')]!);
        }
        assert.deepEqual([...correlation.keys()].sort(), READY);
        assert.equal(await page.isHidden('#move-save button[type=submit]'), true, 'a saved move cannot be sent twice');
        await checkPage(page, `${t.name}-admin-users-move-results`, 'move results');

        // Their migrations finish, and a future meeting of each now carries the Microsoft block (the new conference ID).
        for (const who of READY) {
          await waitFor(`${who}'s migration to succeed`, async () => {
            const rows = await api<Row[]>('GET', `/api/v1/migrations?Identity=${encodeURIComponent(who)}`);
            const mine = rows.find((r) => r.CorrelationId === correlation.get(who));
            assert.notEqual(mine?.State, 'Failed', JSON.stringify(mine));
            return mine?.State === 'Succeeded' ? mine : undefined;
          });
          const now = await api<Row>('GET', `/api/v1/dial-in-users?Identity=${encodeURIComponent(who)}`);
          assert.equal(now.Provider, 'Microsoft');
          assert.match(String(now.ConferenceId), /^\d+$/);
          const copies = await ac.fresh.db.kysely.selectFrom('calendar_objects').select(['ics', 'last_end']).where('mailbox_user_id', '=', String(now.UserId)).execute();
          const unfolded = copies.filter((c) => c.last_end === null || Number(c.last_end) > Date.now()).map((c) => c.ics.replace(/\r?\n[ \t]/g, ''));
          assert.ok(unfolded.length > 0, `${who} organizes future meetings`);
          assert.ok(unfolded.some((ics) => ics.includes(String(now.ConferenceId))), `a meeting of ${who} shows the new conference ID ${String(now.ConferenceId)}`);
          assert.ok(!unfolded.some((ics) => ics.includes(passcodes[who]!)), `no future meeting of ${who} keeps the Intercall passcode`);
        }
        await page.goto(`${ac.base}/users`);
        assert.equal(await page.$('#ready-banner'), null);
      } catch (err) {
        (err as Error).message += `\n--- mms serve output (tail) ---\n${ac.output().slice(-3000)}`;
        throw err;
      } finally {
        await ac.stop();
      }
    });

    it(`${t.name}: filters and search narrow the list; Reset PIN from the user detail is shown, audited as web:admin and shows no PIN`, { skip: t.skip, timeout: 300_000 }, async () => {
      const ac = await startAdminCenter(browser(), t);
      const page = ac.page;
      try {
        const api = await restClient(ac);
        const all = await api<Row[]>('GET', '/api/v1/dial-in-users');
        const ids = (f: (r: Row) => boolean) => all.filter(f).map((r) => String(r.Identity)).sort();

        await page.goto(`${ac.base}/users`);
        assert.equal((await listed(page)).length, all.length);
        // The form works without script: a GET with the filters in the address.
        await page.selectOption('#f-provider', 'thirdparty');
        await page.click('form.filters button[type=submit]');
        await page.waitForURL(/provider=thirdparty/);
        assert.deepEqual(await listed(page), ids((r) => r.Provider === 'Intercall'));
        await page.goto(`${ac.base}/users?provider=microsoft&ac=on`);
        assert.deepEqual(await listed(page), ids((r) => r.Provider === 'Microsoft' && r.AudioConferencingEnabled === true));
        await page.goto(`${ac.base}/users?provider=none`);
        assert.deepEqual(await listed(page), ids((r) => r.Provider === ''));
        await page.goto(`${ac.base}/users?ac=off`);
        assert.deepEqual(await listed(page), ids((r) => r.AudioConferencingEnabled !== true));
        await page.goto(`${ac.base}/users?ready=1`);
        assert.deepEqual(await listed(page), ['irvins@contoso.com']);
        await page.goto(`${ac.base}/users`);
        await page.fill('#f-q', 'megan');
        await page.press('#f-q', 'Enter');
        await page.waitForURL(/q=megan/);
        assert.deepEqual(await listed(page), ['meganb@contoso.com']);

        // The page speaks the admin's language (the switch's ?lang=), banner and filters included.
        await page.goto(`${ac.base}/users?lang=fr`);
        assert.match((await page.textContent('#ready-banner')) ?? '', /^1 utilisateur a la licence Audioconférence/);
        assert.equal((await page.textContent('label[for=f-ready]'))?.trim(), 'Prêts à être déplacés');
        await page.goto(`${ac.base}/users?lang=en&q=megan`);
        await page.waitForURL(/\/users\?q=megan$/);

        // The user detail: opened from the list, dial-in information without the PIN, each change's decision beforehand
        // (the commands' -WhatIf, which writes nothing: the audit log is as before).
        const auditUnseen = await api<Row[]>('GET', '/api/v1/audit-log?Identity=meganb@contoso.com');
        await page.click('#users tbody a[href^="/users/"]');
        await page.waitForURL(/\/users\/meganb%40contoso\.com$|\/users\/meganb@contoso\.com$/);
        assert.match((await page.textContent('#dial-in')) ?? '', /Contoso US/);
        assert.match((await page.textContent('#reset-pin-h + p + .decision')) ?? '', /^Will not migrate meetings: the leader PIN is not part of meeting invitations/);
        assert.match((await page.textContent('section[aria-labelledby=conference-id-h] .decision')) ?? '', /^Will migrate meetings:/);
        // The bridge and number forms: one preview per option the admin can submit, each the real command's decision.
        const bridgeOptions = await page.$$eval('#bridge-name option', (os) => os.map((o) => o.textContent ?? ''));
        const bridgeNotes = await page.$$eval('ul[aria-labelledby=bridge-previews] li', (lis) => lis.map((li) => li.textContent ?? ''));
        assert.ok(bridgeOptions.length > 0);
        assert.deepEqual(bridgeNotes.map((n) => n.split(':')[0]), bridgeOptions);
        for (const n of bridgeNotes) assert.match(n, /: Will migrate meetings: /, n);
        const numberChoices = await page.$$eval('#numbers-form select option:not([selected])', (os) => os.filter((o) => (o as HTMLOptionElement).value !== '').length);
        assert.equal(await page.$$eval('ul[aria-labelledby=number-previews] li', (lis) => lis.length), numberChoices);
        assert.deepEqual(await api<Row[]>('GET', '/api/v1/audit-log?Identity=meganb@contoso.com'), auditUnseen, 'the previews wrote nothing');
        assert.equal(await page.getAttribute('a[href^="/migrations?Identity="]', 'href'), '/migrations?Identity=meganb%40contoso.com');
        assert.equal(await page.getAttribute('a[href^="/audit?Identity="]', 'href'), '/audit?Identity=meganb%40contoso.com');
        await checkPage(page, `${t.name}-admin-user-detail`, 'user detail');

        const auditBefore = await api<Row[]>('GET', '/api/v1/audit-log?Identity=meganb@contoso.com');
        await page.focus('#reset-pin-form button');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#reset-pin-form [data-result].ok .outcome');
        const result = (await page.textContent('#reset-pin-form [data-result]')) ?? '';
        assert.match(result, /^The leader PIN was reset\./);
        assert.match(result, /None: the leader PIN is not part of meeting invitations/);
        assert.doesNotMatch(await page.innerText('main'), /\bPIN\b[^.\n]*\d{4,}/, 'no PIN digits anywhere on the page');
        const auditAfter = await api<Row[]>('GET', '/api/v1/audit-log?Identity=meganb@contoso.com');
        assert.equal(auditAfter.length, auditBefore.length + 1);
        const row = auditAfter.at(-1)!;
        assert.equal(row.Actor, 'web:admin');
        assert.equal(row.Cmdlet, 'Set-CsOnlineDialInConferencingUser');
        assert.equal(row.Decision, 'NoMigration');
        assert.doesNotMatch(JSON.stringify(row), /pin_hash|LeaderPin"/i);
        await screenshot(page, `${t.name}-admin-user-detail-pin-reset`);
      } catch (err) {
        (err as Error).message += `\n--- mms serve output (tail) ---\n${ac.output().slice(-3000)}`;
        throw err;
      } finally {
        await ac.stop();
      }
    });
  }
});
