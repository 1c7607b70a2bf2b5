// Tenant isolation over the REST API (issue 10 §2): every route, called with each role's token of another tenant
// and aimed at Contoso's users, bridges, hosts and migrations, answers 401/403/404 or acts on its own tenant only —
// no answer carries anything of Contoso's that the caller did not send, and Contoso's data is the same afterwards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { ParamSpec } from '../src/cli/cmdlet.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { buildApi } from '../src/http/app.js';
import { allows, CMDLET_ROUTES, ROLES, type Role } from '../src/http/routes.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const NOW = Date.UTC(2026, 10, 30, 12);
// What exists only in Contoso's data and is never sent by the caller: finding one in an answer is a leak.
const SECRETS = ['Zyx Hidden', '+12065550100', '2065550100', 'Secret Merger Call', 'contoso-dav.internal', 'zyx-hidden-operator'];
const CONTOSO_VIEWS = [
  ['Get-CsOnlineDialInConferencingUser'], ['Get-CsOnlineDialInConferencingBridge'], ['Get-CsMeetingMigrationStatus'],
  ['Get-MmsMailboxHost'], ['Get-CsOnlineDialInConferencingTenantSettings'], ['Get-CsTenantMigrationConfiguration'],
  ['Get-MmsMeeting', 'amy@contoso.com'], ['Get-MmsApiToken'], ['Get-MmsOutbox'], ['Get-MmsAdmin'],
];

for (const t of TEST_DATABASES) {
  describe(`${t.name}: tenant isolation on every route`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    let app: FastifyInstance;
    let correlationId = '';
    const tokens = new Map<Role, string>();
    const mms = (...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, () => NOW, argv);
    const contosoViews = async () => Promise.all(CONTOSO_VIEWS.map(async (v) => (await mms(...v, '-Tenant', 'Contoso', '--json')).out));

    /** A value for a field, aimed at Contoso's things. */
    function sample(p: ParamSpec): unknown {
      switch (p.type) {
        case 'int': return 1;
        case 'bool': case 'switch': return true;
        case 'datetime': return '2026-12-01T09:00:00Z';
        case 'enum': return p.values![0];
        case 'string[]': return ['amy@contoso.com'];
      }
      if (p.name === 'CorrelationId') return correlationId;
      if (/Identity|Organizer|UserPrincipalName/.test(p.name)) return 'amy@contoso.com';
      if (p.name === 'Name' || p.name === 'MailboxHost') return 'contoso-dav';
      if (p.name === 'BridgeName') return 'Contoso US';
      if (/Url/.test(p.name)) return 'https://example.org/';
      return 'x';
    }

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [
        ['New-MmsTenant', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsTenant', 'Fabrikam', '-Domain', 'fabrikam.com'],
        ['New-MmsBridge', 'Contoso US', '-TollNumber', '+12065550100', '-Default', '-Tenant', 'Contoso'],
        ['New-MmsBridge', 'Fabrikam US', '-TollNumber', '+13125550199', '-Default', '-Tenant', 'Fabrikam'],
        ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Zyx Hidden', '-Tenant', 'Contoso'],
        ['Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing', '-Tenant', 'Contoso'],
        ['New-MmsMeeting', '-Organizer', 'amy@contoso.com', '-Subject', 'Secret Merger Call', '-Start', '2026-12-02T09:00:00Z', '-End', '2026-12-02T10:00:00Z', '-Tenant', 'Contoso'],
        ['New-MmsMailboxHost', 'contoso-dav', '-Type', 'CalDav', '-Url', 'https://contoso-dav.internal/', '-Tenant', 'Contoso'],
        ['New-MmsUser', 'fay@fabrikam.com', '-DisplayName', 'Fay', '-Tenant', 'Fabrikam'],
        ['New-MmsAdmin', 'zyx-hidden-operator', '-Role', 'Operator', '-Tenant', 'Contoso'],
      ]) {
        const r = await mms(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      }
      const started = JSON.parse((await mms('Start-CsExMeetingMigration', 'amy@contoso.com', '-Tenant', 'Contoso', '--json')).out) as Array<{ CorrelationId: string }> | { CorrelationId: string };
      correlationId = (Array.isArray(started) ? started[0]! : started).CorrelationId;
      assert.match(correlationId, /^[0-9a-f-]{36}$/);
      const fabrikam = await resolveTenant(fresh.db, 'Fabrikam');
      for (const role of ROLES.filter((r) => r !== 'ServiceAdmin')) {
        tokens.set(role, (await createApiToken(fresh.db, { name: `fabrikam-${role}`, role, tenant: fabrikam, lifetimeMs: 86_400_000, actor: 'tester', now: NOW })).token);
      }
      app = await buildApi({ db: fresh.db, config: loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0' }), cmdlets: CMDLETS, now: () => NOW });
    });
    after(async () => {
      await app?.close();
      await fresh?.drop();
    });

    it('no route leaks or changes Contoso, whatever the role of a Fabrikam token', async () => {
      const before = await contosoViews();
      for (const s of SECRETS.slice(0, 3)) assert.ok(before.join('').includes(s) || s === '2065550100', `the views show ${s}: the check can see a leak`);
      let calls = 0;
      for (const cmdlet of CMDLETS) {
        const route = CMDLET_ROUTES[cmdlet.name];
        if (!route) continue;
        const inPath = new Set([...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!));
        const url0 = route.url.replace(/:([A-Za-z]+)/g, (_m, n: string) => encodeURIComponent(String(sample(cmdlet.params.find((p) => p.name === n)!))));
        const fields = cmdlet.params.filter((p) => !inPath.has(p.name) && !(route.omit ?? []).includes(p.name) && (p.required || /Identity|Name|CorrelationId/.test(p.name)));
        // The caller names Contoso outright, as an attacker would.
        const args = { ...Object.fromEntries(fields.map((p) => [p.name, sample(p)])), Tenant: 'Contoso' };
        const query = route.method === 'GET' || route.method === 'DELETE';
        const url = query ? `${url0}?${new URLSearchParams(Object.entries(args).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, String(x)]))).toString()}` : url0;
        const callers: Array<[Role | undefined, string | undefined]> = [[undefined, undefined], ...tokens];
        for (const [role, token] of callers) {
          const r: LightMyRequestResponse = await app.inject({ method: route.method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(query ? {} : { payload: args }) });
          calls++;
          const what: string = `${cmdlet.name} (${route.method} ${url}) as ${role ?? 'nobody'}: ${r.statusCode} ${r.body.slice(0, 300)}`;
          if (!role) assert.equal(r.statusCode, 401, what);
          else if (!allows(role, route.role)) assert.equal(r.statusCode, 403, what);
          else assert.ok(r.statusCode < 500, what);
          for (const s of SECRETS) assert.ok(!r.body.includes(s), `leak of ${s}: ${what}`);
        }
      }
      assert.ok(calls >= Object.keys(CMDLET_ROUTES).length * 4);
      assert.deepEqual(await contosoViews(), before, 'Contoso\'s data changed');
    });
  });
}
