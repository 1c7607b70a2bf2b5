// Client telemetry switches (issue 11 §1, §3, §6): which events are accepted and which refused, and why — every
// switch and their combinations — on both databases, through the real Fastify app with the tenant's ingestion key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { census, clientHash, deviceId, errorReport, NOW, outcomes, telemetryWorld, usage, type TelemetryWorld } from './helpers/telemetry-fixture.js';

const POOL = 'pool01.contoso.com';
const ux = (kind: 'usage' | 'error', extra: Record<string, unknown> = {}) =>
  kind === 'usage' ? usage(undefined, { AppName: 'SkypeMeetingsApp', Pool: POOL, ...extra }) : errorReport(undefined, undefined, { AppName: 'JoinLauncher', Pool: POOL, ...extra });

for (const t of TEST_DATABASES) {
  describe(`${t.name}: telemetry switches`, { skip: t.skip }, () => {
    let w: TelemetryWorld;
    before(async () => {
      w = await telemetryWorld(t, { perDevicePerMinute: 5, bodyLimit: 64 * 1024 });
    });
    after(async () => w?.close());
    // A user's hash goes in the body, never in a URL (proxy logs).
    const userConfig = async (UserId: string) => {
      const r = await w.app.inject({ method: 'POST', url: '/telemetry/v1/config', headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` }, payload: { UserId } });
      return { status: r.statusCode, body: r.json() };
    };
    const set = async (...argv: string[]) => {
      const r = await w.mms(...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      return r;
    };

    it('refuses a request without the ingestion key, with a wrong one, or with an admin token (401 naming the scheme)', async () => {
      const none = await w.app.inject({ method: 'POST', url: '/telemetry/v1/census', payload: { Events: [census('a@contoso.com')] } });
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['www-authenticate'], 'MmsTelemetry realm="mms-telemetry"');
      assert.match(none.json().message, /Authorization: MmsTelemetry <key>/);
      assert.equal((await w.post('census', [census('a@contoso.com')], 'mmst_not-a-key')).status, 401);
      const { token } = await createApiToken(w.fresh.db, { name: 'admin', role: 'TenantAdmin', tenant: await resolveTenant(w.fresh.db, 'Contoso'), lifetimeMs: null, actor: 'tester', now: NOW });
      const bearer = await w.app.inject({ method: 'POST', url: '/telemetry/v1/census', headers: { authorization: `Bearer ${token}` }, payload: { Events: [census('a@contoso.com')] } });
      assert.equal(bearer.statusCode, 401);
    });

    it('accepts census always — also when the tenant sets DisableAutomaticSendTracing — and refuses usage and error reports then, naming the switch', async () => {
      await set('Set-MmsUserTelemetry', 'dora@contoso.com', '-ErrorReportingOptIn', '$true');
      assert.deepEqual(outcomes((await w.post('census', [census('dora@contoso.com')])).body), ['Accepted']);
      assert.deepEqual(outcomes((await w.post('usage', [usage()])).body), ['Accepted']);
      assert.deepEqual(outcomes((await w.post('error', [errorReport('dora@contoso.com')])).body), ['Accepted']);
      await set('Set-MmsTelemetryConfiguration', '-DisableAutomaticSendTracing', '$true');
      try {
        assert.deepEqual(outcomes((await w.post('census', [census('dora@contoso.com')])).body), ['Accepted']);
        const u = await w.post('usage', [usage()]);
        assert.deepEqual(outcomes(u.body), ['Refused:DisableAutomaticSendTracing']);
        assert.match(u.body.Results[0].Message, /DisableAutomaticSendTracing/);
        assert.deepEqual(outcomes((await w.post('error', [errorReport('dora@contoso.com')])).body), ['Refused:DisableAutomaticSendTracing']);
        assert.deepEqual(outcomes((await w.post('usage', [ux('usage')])).body), ['Refused:DisableAutomaticSendTracing']);
        const cfg = await userConfig(clientHash('dora@contoso.com'));
        assert.deepEqual(cfg.body, { Census: true, Usage: false, ErrorReporting: false, MaxEventsPerBatch: 500 });
      } finally {
        await set('Set-MmsTelemetryConfiguration', '-DisableAutomaticSendTracing', '$false');
      }
    });

    it('refuses a usage event that carries a user identifier with its own reason, and accepts the rest of the batch', async () => {
      const r = await w.post('usage', [usage(), usage(undefined, { UserId: 'amy@contoso.com' }), usage(undefined, { SipUri: 'sip:amy@contoso.com' }), usage()]);
      assert.equal(r.status, 200);
      assert.deepEqual(outcomes(r.body), ['Accepted', 'Refused:UserIdentifierNotAllowed', 'Refused:UserIdentifierNotAllowed', 'Accepted']);
      assert.match(r.body.Results[1].Message, /^UserId: usage events carry no user identifier/);
      assert.deepEqual([r.body.Accepted, r.body.Refused], [2, 2]);
    });

    it('refuses malformed events one by one with the problem named, never the whole batch', async () => {
      const r = await w.post('census', [census('x@contoso.com'), { ...census('x@contoso.com'), UserId: 'x@contoso.com' }, { ...census('y@contoso.com'), SignInFailures: -1 }, 'text', { ...census('z@contoso.com'), Extra: 1 }, { ...census('z@contoso.com'), Time: '2026-13-45T99:00:00Z' }]);
      assert.equal(r.status, 200);
      assert.deepEqual(outcomes(r.body), ['Accepted', 'Refused:Schema', 'Refused:Schema', 'Refused:Schema', 'Refused:Schema', 'Refused:Schema']);
      assert.match(r.body.Results[1].Message, /^UserId must match pattern/);
      assert.match(r.body.Results[2].Message, /^SignInFailures must be >= 0/);
      assert.equal(r.body.Results[3].Message, 'an event must be a JSON object');
      assert.match(r.body.Results[4].Message, /field not in the schema: Extra/);
      assert.match(r.body.Results[5].Message, /^Time is not a date/);
      const e = await w.post('error', [errorReport('nobody@contoso.com', undefined, { IpAddress: 'not-an-ip' })]);
      assert.deepEqual(outcomes(e.body), ['Refused:ErrorReportingOptIn']);
      await set('Set-MmsUserTelemetry', 'ip@contoso.com', '-ErrorReportingOptIn', '$true');
      assert.deepEqual(outcomes((await w.post('error', [errorReport('ip@contoso.com', undefined, { IpAddress: 'not-an-ip' }), errorReport(undefined)])).body), ['Refused:Schema', 'Refused:Schema']);
    });

    it('accepts a user\'s error reports only after the user opts in, and refuses them again after opting out', async () => {
      const user = 'erin@contoso.com';
      assert.deepEqual(outcomes((await w.post('error', [errorReport(user)])).body), ['Refused:ErrorReportingOptIn']);
      assert.equal((await userConfig(clientHash(user))).body.ErrorReporting, false);
      await set('Set-MmsUserTelemetry', user, '-ErrorReportingOptIn', '$true');
      assert.equal((await userConfig(clientHash(user))).body.ErrorReporting, true);
      // The client's forms of the same id are one user: case and a sip: prefix do not matter.
      assert.deepEqual(outcomes((await w.post('error', [errorReport(user), errorReport('SIP:Erin@Contoso.com')])).body), ['Accepted', 'Accepted']);
      await set('Set-MmsUserTelemetry', user, '-ErrorReportingOptIn', '$false');
      assert.deepEqual(outcomes((await w.post('error', [errorReport(user)])).body), ['Refused:ErrorReportingOptIn']);
      assert.equal((await userConfig(clientHash(user))).body.ErrorReporting, false);
    });

    it('takes Skype Meetings App and join launcher usage and errors from a pool only when its MeetingUxEnableTelemetry is true (default false), Global or its own', async () => {
      assert.deepEqual((await w.json('Get-CsWebServiceConfiguration')), [{ Identity: 'Global', MeetingUxEnableTelemetry: false }]);
      assert.deepEqual(outcomes((await w.post('usage', [ux('usage')])).body), ['Refused:MeetingUxEnableTelemetry']);
      assert.deepEqual(outcomes((await w.post('error', [ux('error')])).body), ['Refused:MeetingUxEnableTelemetry']);
      assert.deepEqual(outcomes((await w.post('usage', [ux('usage', { Pool: undefined })])).body), ['Refused:Schema']);
      assert.deepEqual((await w.config({ AppName: 'SkypeMeetingsApp', Pool: POOL })).body, { Census: true, Usage: false, ErrorReporting: false, MeetingUxEnableTelemetry: false, MaxEventsPerBatch: 500 });
      await set('Set-CsWebServiceConfiguration', '-Identity', `Service:WebServer:${POOL}`, '-MeetingUxEnableTelemetry', '$true');
      // No user switch for the meetings app: its error reports need only the pool's — and so may not name a user
      // (a client could otherwise label any user's report as the meetings app's and skip the opt-in).
      assert.deepEqual(outcomes((await w.post('usage', [ux('usage')])).body), ['Accepted']);
      assert.deepEqual(outcomes((await w.post('error', [ux('error'), ux('error', { UserId: 'guest@fabrikam.com' }), ux('error', { SipUri: 'sip:guest@fabrikam.com' })])).body), ['Accepted', 'Refused:ErrorReportingOptIn', 'Refused:ErrorReportingOptIn']);
      assert.deepEqual((await w.config({ AppName: 'JoinLauncher', Pool: POOL })).body, { Census: true, Usage: true, ErrorReporting: true, MeetingUxEnableTelemetry: true, MaxEventsPerBatch: 500 });
      // Another pool follows Global (still false); Global on turns it on; its own false wins over Global.
      assert.deepEqual(outcomes((await w.post('usage', [ux('usage', { Pool: 'pool02.contoso.com' })])).body), ['Refused:MeetingUxEnableTelemetry']);
      await set('Set-CsWebServiceConfiguration', 'Global', '-MeetingUxEnableTelemetry', '$true');
      assert.deepEqual(outcomes((await w.post('usage', [ux('usage', { Pool: 'pool02.contoso.com' })])).body), ['Accepted']);
      await set('Set-CsWebServiceConfiguration', 'pool02.contoso.com', '-MeetingUxEnableTelemetry', '$false');
      assert.deepEqual(outcomes((await w.post('usage', [ux('usage', { Pool: 'pool02.contoso.com' })])).body), ['Refused:MeetingUxEnableTelemetry']);
      // The desktop client is not governed by the pool switch, and the tenant switch still governs the meetings app.
      assert.deepEqual(outcomes((await w.post('usage', [usage(undefined, { Pool: 'pool02.contoso.com' })])).body), ['Accepted']);
      await set('Set-MmsTelemetryConfiguration', '-DisableAutomaticSendTracing', '$true');
      assert.deepEqual(outcomes((await w.post('error', [ux('error')])).body), ['Refused:DisableAutomaticSendTracing']);
      await set('Set-MmsTelemetryConfiguration', '-DisableAutomaticSendTracing', '$false');
      const rows = await w.json('Get-CsWebServiceConfiguration');
      assert.deepEqual(rows, [
        { Identity: 'Global', MeetingUxEnableTelemetry: true },
        { Identity: `Service:WebServer:${POOL}`, MeetingUxEnableTelemetry: true },
        { Identity: 'Service:WebServer:pool02.contoso.com', MeetingUxEnableTelemetry: false },
      ]);
    });

    it('keeps each tenant\'s switches to itself: a user opted in at Contoso is not opted in at Fabrikam', async () => {
      await set('Set-MmsUserTelemetry', 'shared@contoso.com', '-ErrorReportingOptIn', '$true');
      assert.deepEqual(outcomes((await w.post('error', [errorReport('shared@contoso.com')])).body), ['Accepted']);
      assert.deepEqual(outcomes((await w.post('error', [errorReport('shared@contoso.com')], w.keys.Fabrikam)).body), ['Refused:ErrorReportingOptIn']);
      const fabrikam = await resolveTenant(w.fresh.db, 'Fabrikam');
      const n = await w.fresh.db.kysely.selectFrom('telemetry_errors').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', fabrikam.id).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 0);
    });

    it('limits events per device per minute (RateLimited per event; 429 with Retry-After when a whole batch is over), other devices unaffected', async () => {
      const d = deviceId();
      const r = await w.post('usage', Array.from({ length: 7 }, () => usage(d)));
      assert.deepEqual(outcomes(r.body), ['Accepted', 'Accepted', 'Accepted', 'Accepted', 'Accepted', 'Refused:RateLimited', 'Refused:RateLimited']);
      const again = await w.post('usage', [usage(d)]);
      assert.equal(again.status, 429);
      assert.deepEqual(outcomes(again.body), ['Refused:RateLimited']);
      assert.deepEqual(outcomes((await w.post('usage', [usage()])).body), ['Accepted']);
      w.clock += 60_000; // a minute later the device's allowance is back
      try {
        assert.deepEqual(outcomes((await w.post('usage', [usage(d)])).body), ['Accepted']);
      } finally {
        w.clock = NOW;
      }
    });

    it('refuses a body over the size limit (413) and a batch over 500 events (400) as a whole', async () => {
      const big = await w.post('error', [errorReport('x@contoso.com', undefined, { Log: 'x'.repeat(15_000) }), ...Array.from({ length: 4 }, () => errorReport('x@contoso.com', undefined, { Log: 'y'.repeat(15_000) }))]);
      assert.equal(big.status, 413);
      const many = await w.post('census', Array.from({ length: 501 }, () => ({})));
      assert.equal(many.status, 400);
      assert.match(many.body.message, /500/);
    });

    it('audits every change of the switches; a value already in place is "no change"; out-of-range values are refused', async () => {
      await set('Set-MmsTelemetryConfiguration', '-RetentionDays', '60', '-ErrorReportRetentionDays', '14', '-MinGroupSize', '10', '-KeepErrorReportIdentifiers', '$true');
      const cfg = await w.json('Get-MmsTelemetryConfiguration');
      assert.deepEqual({ ...cfg, IngestionKeyCreatedAt: undefined }, { Identity: 'Contoso', DisableAutomaticSendTracing: false, KeepErrorReportIdentifiers: true, RetentionDays: 60, ErrorReportRetentionDays: 14, MinGroupSize: 10, KeyEpoch: 1, IngestionKeyCreatedAt: undefined });
      const same = await w.mms('Set-MmsTelemetryConfiguration', '-RetentionDays', '60');
      assert.equal(same.code, 0);
      assert.match(same.err, /no change: RetentionDays is already 60/);
      const bad = await w.mms('Set-MmsTelemetryConfiguration', '-MinGroupSize', '1');
      assert.notEqual(bad.code, 0);
      assert.match(bad.err, /MinGroupSize 1 is out of range: give a whole number from 2 to 1000/);
      await set('Set-MmsTelemetryConfiguration', '-KeepErrorReportIdentifiers', '$false');
      const audit = await w.json('Get-MmsAuditLog');
      const cmdlets = (audit as Array<{ Cmdlet: string }>).map((a) => a.Cmdlet);
      for (const c of ['New-MmsTelemetryIngestionKey', 'Set-MmsTelemetryConfiguration', 'Set-CsWebServiceConfiguration', 'Set-MmsUserTelemetry']) assert.ok(cmdlets.includes(c), `${c} audited`);
      const row = (audit as Array<Record<string, any>>).find((a) => a.Cmdlet === 'Set-MmsTelemetryConfiguration' && JSON.stringify(a).includes('MinGroupSize'));
      assert.ok(row, JSON.stringify(audit));
      assert.equal(row.Actor, 'tester');
      // The opt-in is audited under a pseudonym: the audit log does not become a list of who reports errors.
      assert.ok(!JSON.stringify(audit).includes('erin@contoso.com'));
    });

    it('a new ingestion key replaces the old one at once', async () => {
      const old = w.keys.Contoso!;
      const r = await w.json('New-MmsTelemetryIngestionKey');
      assert.equal(r.ReplacedPreviousKey, true);
      assert.match(r.IngestionKey, /^mmst_/);
      assert.equal((await w.post('census', [census('k@contoso.com')], old)).status, 401);
      assert.deepEqual(outcomes((await w.post('census', [census('k@contoso.com')], r.IngestionKey)).body), ['Accepted']);
      w.keys.Contoso = r.IngestionKey;
    });

    it('serves the switches over REST (reads ReadOnly, changes TenantAdmin) and lists the ingestion routes and event schemas in the OpenAPI document', async () => {
      const contoso = await resolveTenant(w.fresh.db, 'Contoso');
      const read = (await createApiToken(w.fresh.db, { name: 'reader', role: 'ReadOnly', tenant: contoso, lifetimeMs: null, actor: 'tester', now: NOW })).token;
      const admin = (await createApiToken(w.fresh.db, { name: 'tadmin', role: 'TenantAdmin', tenant: contoso, lifetimeMs: null, actor: 'tester', now: NOW })).token;
      const call = (method: 'GET' | 'PATCH', url: string, token: string, payload?: unknown) => w.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload: payload as never });
      assert.equal((await call('GET', '/api/v1/telemetry-configuration', read)).statusCode, 200);
      assert.equal((await call('PATCH', '/api/v1/telemetry-configuration', read, { RetentionDays: 30 })).statusCode, 403);
      const p = await call('PATCH', '/api/v1/web-service-configuration/Service%3AWebServer%3Apool03.contoso.com', admin, { MeetingUxEnableTelemetry: true });
      assert.equal(p.statusCode, 200, p.body);
      assert.deepEqual(p.json(), { Identity: 'Service:WebServer:pool03.contoso.com', MeetingUxEnableTelemetry: true });
      const u = await call('PATCH', '/api/v1/user-telemetry', admin, { Identity: 'rest@contoso.com', ErrorReportingOptIn: true });
      assert.equal(u.statusCode, 200, u.body);
      assert.equal((await call('GET', '/api/v1/user-telemetry?Identity=rest%40contoso.com', read)).json().ErrorReportingOptIn, true);
      assert.ok(!w.log().includes('rest@contoso.com') && !w.log().includes('rest%40contoso.com'), 'the request log names no user');
      const doc = (await w.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
      for (const k of ['census', 'usage', 'error', 'config']) assert.ok(doc.paths[`/telemetry/v1/${k}`], k);
      for (const s of ['TelemetryCensusEvent', 'TelemetryUsageEvent', 'TelemetryErrorEvent']) assert.ok(doc.components.schemas[s], s);
      assert.ok(doc.components.securitySchemes.telemetryKey);
    });
  });
}
