// The admin center's bridges, settings and audit log pages in a real browser (issue 10 §3), on the demo
// organization and both databases: the bridges and their numbers with the defaults marked; unassigning a number
// that demo users dial first says how many users' meetings will migrate (Unregister-… -WhatIf, the trigger rules
// themselves), then does it through the REST API and those users get migration requests; a setting changed through
// its form reads back changed and is in the audit log under web:admin; the audit search narrows by user and actor.
// Every page passes axe and is photographed. Also, at the command line: Get-MmsAuditLog -Actor and
// Unregister-CsOnlineDialInConferencingServiceNumber -WhatIf (which writes nothing).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkip, screenshot, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { startAdminCenter, type AdminCenter } from './helpers/admin-center.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { runMms } from './helpers/cli-run.js';

type Row = Record<string, unknown>;

/** A GET of the REST API with the admin's session (reads need no CSRF token). */
async function apiGet(ac: AdminCenter, path: string): Promise<Row[] & Row> {
  const res = await ac.context.request.get(`${ac.base}${path}`, { headers: { accept: 'application/json' } });
  assert.equal(res.status(), 200, `${path}: ${await res.text()}`);
  return (await res.json()) as Row[] & Row;
}

async function checkPage(page: Page, name: string): Promise<void> {
  assert.deepEqual(await seriousAxeViolations(page), [], name);
  await screenshot(page, name);
}

const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));

/** The audit page's rows as { column heading → cell text }. */
async function auditRows(page: Page): Promise<Array<Record<string, string>>> {
  return page.$$eval('#audit-rows tbody tr', (trs) => {
    const heads = [...document.querySelectorAll('#audit-rows thead th')].map((th) => (th.textContent ?? '').trim());
    return trs.map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [heads[i] ?? String(i), (td.textContent ?? '').trim()])));
  });
}

const totalOf = async (page: Page) => Number(/of (\d+)/.exec((await page.textContent('#audit-showing')) ?? '')?.[1] ?? 0);

describe('admin center: bridges, settings and audit log in a browser', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: bridges list their numbers; unassigning a number says first how many users' meetings migrate, then queues them`, { skip: t.skip, timeout: 240_000 }, async () => {
      const ac = await startAdminCenter(browser(), t);
      const page = ac.page;
      try {
        const res = await page.goto(`${ac.base}/bridges`);
        assert.equal(res?.status(), 200, (await page.textContent('main')) ?? '');
        const bridges = (await apiGet(ac, '/api/v1/bridges')) as Row[];
        const headings = await texts(page, 'main h2');
        for (const b of bridges) assert.ok(headings.some((h) => h.startsWith(String(b.Name))), `${String(b.Name)} is listed: ${headings.join(' | ')}`);
        assert.ok(headings.some((h) => h.startsWith('Contoso US') && h.includes('Default bridge')));
        // Default numbers are marked; others are not.
        const us = page.locator('section.bridge', { has: page.locator('h2', { hasText: 'Contoso US' }) });
        assert.match((await us.locator('tr', { hasText: '+12065550100' }).textContent()) ?? '', /Default toll number/);
        assert.match((await us.locator('tr', { hasText: '+18665550100' }).textContent()) ?? '', /Default toll-free number/);
        assert.doesNotMatch((await us.locator('tr', { hasText: '+14255550100' }).textContent()) ?? '', /Default/);
        await checkPage(page, `${t.name}-admin-bridges`);

        // Berlin's number: the German-speaking EU users dial it. Who shows it, by the REST API.
        const number = '+493055550100';
        const dialing = ((await apiGet(ac, '/api/v1/dial-in-users')) as Row[]).filter((u) => u.ServiceNumber === number).map((u) => String(u.Identity)).sort();
        assert.ok(dialing.length > 0, 'some demo users dial the Berlin number');
        // With the keyboard: focus the number's link and press Enter.
        await page.focus(`a[href="/bridges/unassign?Bridge=Contoso+EU&Number=%2B493055550100"]`);
        await page.keyboard.press('Enter');
        await page.waitForURL(/\/bridges\/unassign\?/);
        const summary = page.locator('#unassign-summary');
        const migrating = Number(await summary.getAttribute('data-migrating'));
        assert.ok(migrating > 0 && migrating <= dialing.length, `migrating ${migrating} of ${dialing.length}`);
        assert.match((await summary.textContent()) ?? '', new RegExp(`will migrate the meetings of ${migrating} user`));
        // Affected: every user who dials it (and users who hold it while their meetings show another bridge, e.g.
        // still homed on-premises: they lose it without a migration). Migrating: only users who dial it.
        const affected = (await texts(page, '#affected-users tbody tr td:first-child')).sort();
        assert.equal(Number(await summary.getAttribute('data-affected')), affected.length);
        for (const upn of dialing) assert.ok(affected.includes(upn), `${upn} is listed as affected`);
        const willMigrate = await page.$$eval('#affected-users tbody tr', (trs) => trs.filter((tr) => tr.children[1]?.textContent?.trim() === 'Yes').map((tr) => tr.children[0]?.textContent?.trim() ?? ''));
        assert.equal(willMigrate.length, migrating);
        for (const upn of willMigrate) assert.ok(dialing.includes(upn), `${upn} migrates and dials the number`);
        // The preview changed nothing: the number is still on the bridge.
        const eu = ((await apiGet(ac, '/api/v1/bridges')) as Row[]).find((b) => b.Name === 'Contoso EU');
        assert.ok((eu?.ServiceNumbers as string[]).some((n) => n.startsWith(number)), 'the preview left the number on the bridge');
        await checkPage(page, `${t.name}-admin-bridges-unassign`);

        await page.click('form.confirm button[type=submit]');
        await page.waitForSelector('#unassign-result.result.ok table');
        const resultUsers = (await texts(page, '#unassign-result tbody tr td:first-child')).sort();
        assert.deepEqual(resultUsers, affected);
        assert.equal(await page.$$eval('#unassign-result tbody tr', (trs) => trs.filter((tr) => /^Queued/.test(tr.children[1]?.textContent ?? '')).length), migrating);
        const euAfter = ((await apiGet(ac, '/api/v1/bridges')) as Row[]).find((b) => b.Name === 'Contoso EU');
        assert.ok(!(euAfter?.ServiceNumbers as string[]).some((n) => n.startsWith(number)), 'the number is gone from the bridge');
        // Those users have a migration request for the unassigned number.
        for (const upn of willMigrate) {
          const requests = (await apiGet(ac, `/api/v1/migrations?Identity=${encodeURIComponent(upn)}`)) as Row[];
          assert.ok(requests.some((r) => (r.TriggerReasons as string[] | undefined)?.includes('NumberUnassigned')), `${upn} has a request for NumberUnassigned: ${JSON.stringify(requests)}`);
        }
        await screenshot(page, `${t.name}-admin-bridges-unassigned`);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- mms serve output (tail) ---\n${ac.output().slice(-3000)}`, { cause: err });
      } finally {
        await ac.stop();
      }
    });

    it(`${t.name}: a setting changed through its form reads back changed and is in the audit log under web:admin; the audit search narrows by user and actor`, { skip: t.skip, timeout: 240_000 }, async () => {
      const ac = await startAdminCenter(browser(), t);
      const page = ac.page;
      try {
        await page.goto(`${ac.base}/settings`);
        const before = await apiGet(ac, '/api/v1/dial-in-settings');
        assert.equal(await page.inputValue('#setting-PinLength'), String(before.PinLength));
        assert.equal(await page.inputValue('#setting-MeetingMigrationEnabled'), 'true');
        // Each setting says what it does.
        assert.match((await page.textContent('#setting-PreserveEditedBlocks-what')) ?? '', /edited by hand/);
        await checkPage(page, `${t.name}-admin-settings`);
        const pin = Number(before.PinLength) === 7 ? 8 : 7;
        await page.fill('#setting-PinLength', String(pin));
        await page.click('#dial-in-form button[type=submit]');
        await page.waitForSelector('#dial-in-form [data-result].result.ok');
        assert.equal((await apiGet(ac, '/api/v1/dial-in-settings')).PinLength, pin);
        await page.reload();
        assert.equal(await page.inputValue('#setting-PinLength'), String(pin));
        const mine = (await apiGet(ac, '/api/v1/audit-log?Actor=web:admin')) as Row[];
        const row = mine.find((r) => r.Cmdlet === 'Set-CsOnlineDialInConferencingTenantSettings');
        assert.ok(row, `the change is in the audit log: ${JSON.stringify(mine)}`);
        assert.equal(row.Actor, 'web:admin');
        assert.match(String(row.Changes), new RegExp(`PinLength: ${String(before.PinLength)} → ${pin}`));

        // The audit log: everything, then by actor, then by user (through the search form).
        await page.goto(`${ac.base}/audit`);
        const all = await totalOf(page);
        assert.ok(all > 10, `the demo wrote the audit log (${all} rows)`);
        await checkPage(page, `${t.name}-admin-audit`);
        await page.fill('#audit-Actor', 'web:admin');
        await page.click('form.filters button[type=submit]');
        await page.waitForURL(/Actor=web%3Aadmin/);
        const byActor = await auditRows(page);
        assert.ok(byActor.length >= 1 && byActor.length < all, `${byActor.length} of ${all}`);
        assert.ok(byActor.every((r) => r.Actor === 'web:admin'), JSON.stringify(byActor));
        assert.ok(byActor.some((r) => r.Command === 'Set-CsOnlineDialInConferencingTenantSettings' && r.Changes?.includes('PinLength')));
        await page.goto(`${ac.base}/audit`);
        const upn = String(((await apiGet(ac, '/api/v1/dial-in-users')) as Row[]).find((u) => u.ServiceNumber === '+493055550100')?.Identity);
        await page.fill('#audit-Identity', upn);
        await page.press('#audit-Identity', 'Enter');
        await page.waitForURL(/Identity=/);
        const byUser = await auditRows(page);
        assert.ok(byUser.length >= 1 && byUser.length < all, `${byUser.length} of ${all}`);
        assert.ok(byUser.every((r) => r.Target === upn), JSON.stringify(byUser));
        // The reason MMS did or did not migrate is on every row of the user.
        assert.ok(byUser.every((r) => r.Why && r.Why !== '—'), JSON.stringify(byUser));
        // A time window after everything: nothing.
        await page.goto(`${ac.base}/audit?StartTime=2099-01-01T00:00`);
        assert.equal((await page.textContent('main p.empty'))?.trim(), 'Nothing to show.');
        await page.goto(`${ac.base}/audit?Identity=nobody@contoso.com`);
        assert.match((await page.textContent('main .alert')) ?? '', /nobody@contoso\.com/);
        assert.ok(await page.isVisible('#audit-Identity'), 'the search form stays');
        await screenshot(page, `${t.name}-admin-audit-error`);
        // The pages speak the admin's language: French, picked with the switch's parameter.
        await page.goto(`${ac.base}/settings?lang=fr`);
        assert.match((await page.textContent('#setting-PinLength-what')) ?? '', /chiffres/);
        await page.goto(`${ac.base}/audit`);
        assert.equal((await page.textContent('label[for=audit-StartTime]'))?.trim(), 'Depuis (UTC)');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- mms serve output (tail) ---\n${ac.output().slice(-3000)}`, { cause: err });
      } finally {
        await ac.stop();
      }
    });
  }
});

describe('Get-MmsAuditLog -Actor and Unregister-CsOnlineDialInConferencingServiceNumber -WhatIf at the command line', () => {
  const NOW = Date.UTC(2026, 10, 2, 9);
  for (const t of TEST_DATABASES) {
    it(`${t.name}: -Actor keeps one actor's rows (any case); -WhatIf says who would migrate and writes nothing`, { skip: t.skip, timeout: 120_000 }, async () => {
      const { url, drop } = await t.fresh();
      const mms = (actor: string, ...argv: string[]) => runMms({ MMS_DATABASE_URL: url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: actor }, () => NOW, argv);
      const ok = async (actor: string, ...argv: string[]) => {
        const r = await mms(actor, ...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
        return r;
      };
      try {
        await ok('alice', 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com');
        await ok('alice', 'New-MmsBridge', '-Name', 'Contoso US', '-TollNumber', '+12065550100 (Seattle) en-US,+14255550100 (Redmond) en-US');
        await ok('bob', 'New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Shaw');
        await ok('bob', 'Set-MmsUserLicense', '-Identity', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing');
        await ok('bob', 'Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-ServiceNumber', '+14255550100');

        const bob = JSON.parse((await ok('carol', 'Get-MmsAuditLog', '-Actor', 'BOB', '--json')).out) as Row[];
        assert.ok(bob.length >= 3, JSON.stringify(bob));
        assert.ok(bob.every((r) => r.Actor === 'bob'));
        const alice = JSON.parse((await ok('carol', 'Get-MmsAuditLog', '-Actor', 'alice', '--json')).out) as Row[];
        assert.deepEqual(alice.map((r) => r.Cmdlet), ['New-MmsTenant', 'New-MmsBridge']);
        const both = JSON.parse((await ok('carol', 'Get-MmsAuditLog', '-Identity', 'amy@contoso.com', '-Actor', 'alice', '--json')).out) as Row[];
        assert.deepEqual(both, []);
        const empty = await mms('carol', 'Get-MmsAuditLog', '-Actor', ' ');
        assert.equal(empty.code, 2, empty.err);
        assert.match(empty.err, /^mms: Actor is empty/);

        const auditBefore = (JSON.parse((await ok('carol', 'Get-MmsAuditLog', '--json', '-First', '1000')).out) as Row[]).length;
        const preview = await ok('carol', 'Unregister-CsOnlineDialInConferencingServiceNumber', '-Identity', '+14255550100', '-BridgeName', 'Contoso US', '-WhatIf', '--json');
        const rows = JSON.parse(preview.out) as Row[];
        assert.deepEqual(rows.map((r) => [r.UserPrincipalName, r.MeetingMigration, r.CorrelationId]), [['amy@contoso.com', 'WouldQueue', '']]);
        assert.match(preview.err, /would affect 1 user\(s\) and queue 1 for migration; nothing was changed/);
        // Nothing written: no audit row, no request, the number still there.
        assert.equal((JSON.parse((await ok('carol', 'Get-MmsAuditLog', '--json', '-First', '1000')).out) as Row[]).length, auditBefore);
        const bridge = JSON.parse((await ok('carol', 'Get-CsOnlineDialInConferencingBridge', '--json')).out) as Row[];
        assert.ok((bridge[0]?.ServiceNumbers as string[]).some((n) => n.startsWith('+14255550100')));
        const before = JSON.parse((await ok('carol', 'Get-CsMeetingMigrationStatus', '-Identity', 'amy@contoso.com', '--json')).out) as Row[];
        // The real run then does what the preview said.
        const real = JSON.parse((await ok('carol', 'Unregister-CsOnlineDialInConferencingServiceNumber', '-Identity', '+14255550100', '-BridgeName', 'Contoso US', '--json')).out) as Row[];
        assert.deepEqual(real.map((r) => r.UserPrincipalName), ['amy@contoso.com']);
        assert.match(String(real[0]?.MeetingMigration), /^Queued/);
        const afterRun = JSON.parse((await ok('carol', 'Get-CsMeetingMigrationStatus', '-Identity', 'amy@contoso.com', '--json')).out) as Row[];
        assert.ok(afterRun.some((r) => (r.TriggerReasons as string[]).includes('NumberUnassigned')), JSON.stringify({ before, afterRun }));
      } finally {
        await drop();
      }
    });
  }
});
