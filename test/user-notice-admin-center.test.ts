// Issue 12 §3 in the admin center (a real browser on `mms serve` with the demo, both databases): the user page's
// "Send conference info by email" queues one email to that user with their details and no PIN (the outbox message
// holds none either), and with AutomaticallySendEmailsToUsers off a Reset PIN shows the new PIN once in its result,
// which verifies against the stored hash, and queues nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { APIRequestContext } from 'playwright-core';
import { browserSkip, suiteBrowser } from './helpers/browser.js';
import { startAdminCenter, type AdminCenter } from './helpers/admin-center.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { pinPepper, verifyLeaderPin } from '../src/directory/index.js';
import { secretBoxFor } from '../src/secrets/index.js';

type Row = Record<string, unknown>;
const UPN = 'meganb@contoso.com';

/** The REST API as the signed-in admin (the session cookie and its CSRF token). */
async function restClient(ac: AdminCenter) {
  const request: APIRequestContext = ac.context.request;
  const csrf = ((await (await request.get(`${ac.base}/api/v1/session`)).json()) as { CsrfToken: string }).CsrfToken;
  return async <T = unknown>(method: 'GET' | 'PATCH', path: string, data?: unknown): Promise<T> => {
    const res = await request.fetch(`${ac.base}${path}`, { method, headers: { 'x-csrf-token': csrf }, data: data as Record<string, unknown> | undefined });
    const body = await res.text();
    assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${body}`);
    return JSON.parse(body) as T;
  };
}

describe('the admin center and the emails to users', { skip: browserSkip }, () => {
  const browser = suiteBrowser();
  for (const t of TEST_DATABASES) {
    it(`${t.name}: "Send conference info by email" queues the user's details without a PIN; with emails off a PIN reset shows the PIN once and sends nothing`, { skip: t.skip, timeout: 300_000 }, async () => {
      const key = randomBytes(32);
      const ac = await startAdminCenter(browser(), t, { env: { MMS_SECRET_KEY: key.toString('base64') } });
      const page = ac.page;
      try {
        const api = await restClient(ac);
        const notices = () => api<Row[]>('GET', `/api/v1/outbox?Kind=UserNotice&Identity=${UPN}`);
        const before = (await notices()).length;
        await page.goto(`${ac.base}/users/${UPN}`);
        await page.click('#send-info-form button[type=submit]');
        await page.waitForSelector('#send-info-form [data-result].ok');
        assert.match((await page.textContent('#send-info-form [data-result]')) ?? '', /^The email is in the outbox\./);
        const queued = await notices();
        assert.equal(queued.length, before + 1);
        const row = queued.at(-1) as Row;
        assert.deepEqual([row.Recipient, row.Delivery, row.State], [UPN, 'UserNotice', 'Queued']);
        const stored = await ac.fresh.db.kysely.selectFrom('outbox as o').innerJoin('outbox_messages as m', 'm.id', 'o.message_id')
          .select('m.notice').where('o.id', '=', Number(row.Id)).executeTakeFirstOrThrow();
        const content = JSON.parse(String(stored.notice)) as Row;
        assert.equal(content.kind, 'ConferenceInfo');
        assert.equal('pin' in content, false, 'the button\'s email carries no PIN');
        const user = await api<Row>('GET', `/api/v1/dial-in-users?Identity=${UPN}`);
        assert.equal((content.dialIn as Row).conferenceId, (Array.isArray(user) ? user[0] : user)?.ConferenceId);

        await api('PATCH', '/api/v1/dial-in-settings', { AutomaticallySendEmailsToUsers: false });
        await page.reload();
        await page.click('#reset-pin-form button[type=submit]');
        await page.waitForSelector('#reset-pin-form [data-result].ok .leader-pin');
        const shown = (await page.textContent('#reset-pin-form .leader-pin')) ?? '';
        const pin = /^LeaderPin: (\d{4,12}) \(shown once and stored only as a hash: pass it on/.exec(shown)?.[1];
        assert.ok(pin, shown);
        const hash = await ac.fresh.db.kysely.selectFrom('users').select('leader_pin_hash').where('upn', '=', UPN).executeTakeFirstOrThrow();
        assert.equal(await verifyLeaderPin(pin, hash.leader_pin_hash, pinPepper(secretBoxFor({ secretKey: key, dialect: ac.fresh.db.dialect }))), true);
        assert.equal((await notices()).length, before + 1, 'emails off: nothing queued');
        await page.reload();
        assert.equal((await page.innerText('main')).includes(pin), false, 'shown once: not on the page again');
      } catch (err) {
        (err as Error).message += `\n--- mms serve output (tail) ---\n${ac.output().slice(-3000)}`;
        throw err;
      } finally {
        await ac.stop();
      }
    });
  }
});
