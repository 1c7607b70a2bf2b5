// Web sign-in in a real browser (issue 10 §4, its sign-in part): `mms serve` as an admin starts it on a new database
// prints a one-time link for the first admin; in Chromium the admin sets the password there, signs in with a wrong
// password (told so), with the right one using only the keyboard, loses the session after 30 idle minutes (its
// row aged in the database, as time would), and signs out. Each page passes axe-core with no serious or critical
// violation, and is photographed into screenshots/ for a reviewer. Both databases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { serveWithLink } from './helpers/admin-center.js';
import { browserSkip, screenshot, seriousAxeViolations, suiteBrowser } from './helpers/browser.js';
import { TEST_DATABASES } from './helpers/databases.js';

const PASSWORD = 'correct horse battery staple';

describe('web sign-in in a browser', { skip: browserSkip }, () => {
  const browser = suiteBrowser();

  for (const t of TEST_DATABASES) {
    it(`${t.name}: set the first password from the link, a wrong password, sign in with the keyboard, an expired session, sign out`, { skip: t.skip, timeout: 180_000 }, async () => {
      const fresh = await t.fresh();
      const mms = await serveWithLink(fresh.url, { MMS_DEMO: 'false' });
      const context = await browser().newContext();
      try {
        const page = await context.newPage();
        // The one-time link: a form for the password, named for the account.
        await page.goto(mms.link);
        assert.equal(await page.textContent('h1'), 'Set your password');
        assert.match(await page.textContent('main') ?? '', /Account admin\./);
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-set-password`);
        await page.fill('#Password', PASSWORD);
        await page.fill('#ConfirmPassword', PASSWORD);
        await page.click('button[type=submit]');
        await page.waitForURL(/\/signin\?setup=done$/);
        assert.match(await page.textContent('[role=status]') ?? '', /Your password is set/);
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-sign-in`);

        // A wrong password: the page says so and keeps the user name.
        await page.fill('#UserName', 'admin');
        await page.fill('#Password', 'not the password at all');
        await page.click('button[type=submit]');
        await page.waitForSelector('[role=alert]');
        assert.match(await page.textContent('[role=alert]') ?? '', /^The user name or the password is not right/);
        assert.equal(await page.inputValue('#UserName'), 'admin');
        assert.deepEqual(await seriousAxeViolations(page), []);
        await screenshot(page, `${t.name}-sign-in-failed`);

        // The keyboard alone: the password field has the focus (the user name is kept); type, Enter.
        await page.keyboard.type(PASSWORD);
        await page.keyboard.press('Enter');
        // The admin center's dashboard opens, naming who signed in.
        await page.waitForURL(`${mms.base}/`);
        assert.match(await page.textContent('header') ?? '', /Signed in as admin \(ServiceAdmin\)/);
        await screenshot(page, `${t.name}-signed-in`);
        const session = await context.request.get(`${mms.base}/api/v1/session`);
        assert.equal(session.status(), 200);

        // 31 minutes without a request: the session has ended, and the page asks to sign in again.
        await sql`update web_sessions set last_seen_at = last_seen_at - ${31 * 60_000}`.execute(fresh.db.kysely);
        await page.goto(`${mms.base}/signin`);
        assert.equal(await page.textContent('h1'), 'Sign in');
        assert.equal((await context.request.get(`${mms.base}/api/v1/session`)).status(), 401);

        // Sign in again and sign out with the button (Tab to it, Enter): the session is over.
        await page.fill('#UserName', 'admin');
        await page.fill('#Password', PASSWORD);
        await page.keyboard.press('Enter');
        await page.waitForURL(`${mms.base}/`);
        await page.focus('form[action="/signout"] button');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#UserName');
        assert.equal(await page.textContent('h1'), 'Sign in');
        assert.equal((await context.request.get(`${mms.base}/api/v1/session`)).status(), 401);
      } finally {
        await context.close();
        mms.child.kill('SIGTERM');
        await new Promise((r) => mms.child.once('exit', r));
        await fresh.drop();
      }
    });
  }
});
