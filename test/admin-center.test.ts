// The admin center's frame in a real browser (issue 10 §3-4): every page opens for a signed-in admin, passes axe-core
// with no serious or critical violation and is photographed into screenshots/; the navigation and the skip link
// work with the keyboard alone; the page follows the browser's language and the switch changes it for the next
// pages too; a visitor without a session is sent to sign in; a TenantAdmin sees its own tenant only, a ServiceAdmin
// switches between tenants. Both databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkip, screenshot, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { signedInContext, startAdminCenter } from './helpers/admin-center.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const PAGES = [
  ['/', 'dashboard'],
  ['/users', 'users'],
  ['/migrations', 'migrations'],
  ['/bridges', 'bridges'],
  ['/settings', 'settings'],
  ['/audit', 'audit'],
] as const;

describe('admin center frame in a browser', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: every page opens, passes axe and is photographed; a visitor without a session is sent to sign in`, { skip: t.skip, timeout: 240_000 }, async () => {
      const ac = await startAdminCenter(browser(), t);
      try {
        for (const [path, name] of PAGES) {
          const res = await ac.page.goto(`${ac.base}${path}`);
          assert.equal(res?.status(), 200, `${path}: ${await ac.page.textContent('main')}`);
          assert.equal(await ac.page.getAttribute('html', 'lang'), 'en');
          assert.equal(await ac.page.getAttribute('nav a[aria-current=page]', 'href'), path);
          assert.ok((await ac.page.textContent('h1'))?.trim(), `${path} has a heading`);
          assert.match(res!.headers()['content-security-policy'] ?? '', /script-src 'self';/);
          assert.deepEqual(await seriousAxeViolations(ac.page), [], path);
          await screenshot(ac.page, `${t.name}-admin-${name}`);
        }
        const anonymous = await browser().newContext();
        try {
          const page = await anonymous.newPage();
          await page.goto(`${ac.base}/users`);
          assert.equal(new URL(page.url()).pathname, '/signin');
        } finally {
          await anonymous.close();
        }
      } finally {
        await ac.stop();
      }
    });

    it(`${t.name}: the keyboard reaches the content and the pages; the language follows the browser and the switch`, { skip: t.skip, timeout: 240_000 }, async () => {
      const ac = await startAdminCenter(browser(), t, { locale: 'fr-FR' });
      const page = ac.page;
      try {
        await page.goto(`${ac.base}/`);
        assert.equal(await page.getAttribute('html', 'lang'), 'fr');
        assert.equal((await page.textContent('nav a[aria-current=page]'))?.trim(), 'Tableau de bord');
        // Tab: the skip link first; Enter moves the focus into the page's content.
        await page.keyboard.press('Tab');
        assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip');
        await page.keyboard.press('Enter');
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
        // The navigation with the keyboard alone: focus the Migrations link and press Enter.
        await page.focus('nav a[href="/migrations"]');
        await page.keyboard.press('Enter');
        await page.waitForURL(`${ac.base}/migrations`);
        // The switch: Español, chosen with the keyboard (the select submits itself).
        await page.focus('#mms-lang');
        await page.selectOption('#mms-lang', 'es');
        await page.waitForFunction(() => document.documentElement.lang === 'es');
        assert.equal(new URL(page.url()).pathname, '/migrations');
        assert.equal((await page.textContent('nav a[aria-current=page]'))?.trim(), 'Migraciones');
        // … and it holds on the next page although the browser still asks for French.
        await page.goto(`${ac.base}/settings`);
        assert.equal(await page.getAttribute('html', 'lang'), 'es');
        assert.equal((await page.textContent('nav a[aria-current=page]'))?.trim(), 'Configuración');
        await screenshot(page, `${t.name}-admin-settings-es`);
      } finally {
        await ac.stop();
      }
    });

    it(`${t.name}: a TenantAdmin sees its own tenant only, a ReadOnly admin no change; a ServiceAdmin switches between tenants`, { skip: t.skip, timeout: 240_000 }, async () => {
      const ac = await startAdminCenter(browser(), t);
      const env = { MMS_DATABASE_URL: ac.fresh.url };
      const mms = async (...argv: string[]) => {
        const r = await runMms(env, Date.now, argv);
        assert.equal(r.code, 0, r.err);
        return r.out;
      };
      try {
        await mms('New-MmsTenant', '-Name', 'Fabrikam', '-Domain', 'fabrikam.com');
        await mms('New-MmsUser', 'pat@fabrikam.com', '-DisplayName', 'Pat Fabrikam', '-Tenant', 'Fabrikam');
        const made = JSON.parse(await mms('New-MmsAdmin', 'fabadmin', '-Role', 'TenantAdmin', '-Tenant', 'Fabrikam', '--json')) as { SignInLink: string };
        const fab = await signedInContext(browser(), ac.base, made.SignInLink, 'fabadmin');
        try {
          const page = await fab.newPage();
          await page.goto(`${ac.base}/users`);
          assert.match(await page.textContent('header') ?? '', /Tenant: Fabrikam/);
          assert.equal(await page.$('#mms-tenant'), null, 'no tenant switch for a TenantAdmin');
          const main = await page.textContent('main') ?? '';
          assert.match(main, /pat@fabrikam\.com/);
          assert.doesNotMatch(main, /contoso\.com/);
          // Naming the other tenant changes nothing: the pages and the API stay in the admin's own tenant.
          await page.goto(`${ac.base}/users?tenant=Contoso`);
          assert.doesNotMatch(await page.textContent('main') ?? '', /contoso\.com/);
          assert.equal((await fab.request.get(`${ac.base}/api/v1/dial-in-users?Tenant=Contoso`)).status(), 404);
        } finally {
          await fab.close();
        }
        // A ReadOnly admin: the pages, without a single change offered; a page above the role says so in the frame.
        const viewerMade = JSON.parse(await mms('New-MmsAdmin', 'viewer', '-Role', 'ReadOnly', '-Tenant', 'Contoso', '--json')) as { SignInLink: string };
        const viewer = await signedInContext(browser(), ac.base, viewerMade.SignInLink, 'viewer');
        try {
          const page = await viewer.newPage();
          for (const path of ['/', '/users', '/migrations', '/bridges', '/settings', '/audit', '/users/adelev@contoso.com']) {
            assert.equal((await page.goto(`${ac.base}${path}`))?.status(), 200, path);
            assert.deepEqual(await page.$$eval('form[data-api]', (fs) => fs.map((f) => f.getAttribute('data-api'))), [], `${path} offers a change to a ReadOnly admin`);
          }
          const start = await page.goto(`${ac.base}/migrations/start?Identity=adelev@contoso.com`);
          assert.equal(start?.status(), 403);
          assert.match(await page.textContent('[role=alert]') ?? '', /viewer, a ReadOnly; this page needs Operator or above/);
          assert.ok(await page.$('nav a[href="/migrations"]'), 'the refusal is a page of the admin center');
          assert.deepEqual(await seriousAxeViolations(page), []);
        } finally {
          await viewer.close();
        }
        // The ServiceAdmin: a switch in the header lists both; picking Fabrikam shows Fabrikam's users.
        const page = ac.page;
        await page.goto(`${ac.base}/users`);
        assert.deepEqual(await page.$$eval('#mms-tenant option', (os) => os.map((o) => o.textContent)), ['Contoso', 'Fabrikam']);
        assert.match(await page.textContent('main') ?? '', /adelev@contoso\.com/);
        await page.selectOption('#mms-tenant', 'Fabrikam');
        await page.waitForFunction(() => (document.querySelector('#mms-tenant') as HTMLSelectElement | null)?.value === 'Fabrikam');
        const main = await page.textContent('main') ?? '';
        assert.match(main, /pat@fabrikam\.com/);
        assert.doesNotMatch(main, /adelev@contoso\.com/);
        assert.deepEqual(await seriousAxeViolations(page), []);
      } finally {
        await ac.stop();
      }
    });
  }
});
