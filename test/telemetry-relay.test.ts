// The admin center's telemetry relay (issue 11 §4) speaks for the signed-in admin and the admin center only: on both
// databases, a ReadOnly session's events naming another app, another user's census hash or another user's error
// UserId are refused per event (the rest ingested, results in the posted order); /config answers for the session's
// user whatever UserId the body names; a POST without the CSRF token is 403 and a bearer token 401. Fastify inject.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { createAdmin } from '../src/http/admin-accounts.js';
import { ADMIN_CENTER_APP } from '../src/http/admin/telemetry-relay.js';
import { resolveTenant } from '../src/directory/index.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { census, clientHash, errorReport, outcomes, telemetryWorld, type TelemetryWorld } from './helpers/telemetry-fixture.js';

const PASSWORD = 'correct horse battery';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const cookieOf = (r: LightMyRequestResponse) => /^mms_session=([^;]*)/.exec(String(r.headers['set-cookie'] ?? ''))?.[1] ?? '';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the admin center's telemetry relay`, { skip: t.skip }, () => {
    let w: TelemetryWorld;
    let s: { cookie: string; csrf: string };
    const relay = (path: string, payload: unknown, headers: Record<string, string> = { 'x-csrf-token': s.csrf }, cookies: Record<string, string> = { mms_session: s.cookie }) =>
      w.app.inject({ method: 'POST', url: `/admin/telemetry/v1/${path}`, cookies, headers, payload: payload as never });

    before(async () => {
      w = await telemetryWorld(t);
      const { code } = await createAdmin(w.fresh.db, { userName: 'rita', role: 'ReadOnly', tenant: await resolveTenant(w.fresh.db, 'Contoso'), actor: 'tester', now: w.clock });
      const setup = await w.app.inject({ method: 'POST', url: '/signin/setup', headers: FORM, payload: new URLSearchParams({ Code: code, Password: PASSWORD, ConfirmPassword: PASSWORD }).toString() });
      assert.equal(setup.statusCode, 303, setup.body);
      const signIn = await w.app.inject({ method: 'POST', url: '/signin', headers: FORM, payload: new URLSearchParams({ UserName: 'rita', Password: PASSWORD }).toString() });
      const cookie = cookieOf(signIn);
      const session = await w.app.inject({ method: 'GET', url: '/api/v1/session', cookies: { mms_session: cookie } });
      assert.equal(session.statusCode, 200, session.body);
      s = { cookie, csrf: session.json().CsrfToken };
    });
    after(async () => w?.close());

    const mine = { AppName: ADMIN_CENTER_APP };

    it('refuses another app\'s and another user\'s census, keeping the posted order', async () => {
      const r = await relay('census', { Events: [census('rita', undefined, mine), census('rita'), census('megan', undefined, mine), census('RITA ', undefined, mine)] });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(outcomes(r.json()), ['Accepted', 'Refused:Schema', 'Refused:Schema', 'Accepted']);
      assert.deepEqual(r.json().Results.map((x: { Index: number }) => x.Index), [0, 1, 2, 3]);
      assert.match(r.json().Results[1].Message, /AppName 'mms-admin-center'/);
      assert.match(r.json().Results[2].Message, /signed-in admin/);
      assert.deepEqual([r.json().Accepted, r.json().Refused], [2, 2]);
      const rows = await w.fresh.db.kysely.selectFrom('telemetry_census').select('app_name').execute();
      assert.deepEqual(rows.map((x) => x.app_name), [ADMIN_CENTER_APP, ADMIN_CENTER_APP]);
    });

    it('refuses an error report naming another user, and answers /config for the session\'s user only', async () => {
      assert.equal((await w.mms('Set-MmsUserTelemetry', 'megan', '-ErrorReportingOptIn', 'true')).code, 0);
      const asMegan = await relay('config', { AppName: ADMIN_CENTER_APP, UserId: clientHash('megan') });
      assert.equal(asMegan.statusCode, 200, asMegan.body);
      assert.equal(asMegan.json().ErrorReporting, false, 'rita has not opted in, whatever hash the body names');
      const r = await relay('error', { Events: [errorReport('megan', undefined, mine), errorReport('rita', undefined, { AppName: 'SkypeMeetingsApp' })] });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(outcomes(r.json()), ['Refused:Schema', 'Refused:Schema']);
      assert.match(r.json().Results[0].Message, /only the signed-in admin/);
      assert.equal((await w.mms('Set-MmsUserTelemetry', 'rita', '-ErrorReportingOptIn', 'true')).code, 0);
      assert.equal((await relay('config', { UserId: clientHash('megan') })).json().ErrorReporting, true);
      const own = await relay('error', { Events: [errorReport('megan', undefined, mine), errorReport('sip:Rita', undefined, mine)] });
      assert.deepEqual(outcomes(own.json()), ['Refused:Schema', 'Accepted']);
      assert.deepEqual(own.json().Results.map((x: { Index: number }) => x.Index), [0, 1]);
    });

    it('needs the session\'s CSRF token (403) and a browser session, not a bearer token (401)', async () => {
      const noCsrf = await relay('usage', { Events: [{ ...mine, AppVersion: '1', DeviceId: '5E872200-F546-4CCD-8F23-AF5F507AA2DD' }] }, {});
      assert.equal(noCsrf.statusCode, 403, noCsrf.body);
      const token = (await w.json('New-MmsApiToken', 'script', '-Role', 'TenantAdmin')).Token as string;
      const bearer = await relay('usage', { Events: [{ ...mine, AppVersion: '1', DeviceId: '5E872200-F546-4CCD-8F23-AF5F507AA2DD' }] }, { authorization: `Bearer ${token}` }, {});
      assert.equal(bearer.statusCode, 401, bearer.body);
    });
  });
}
