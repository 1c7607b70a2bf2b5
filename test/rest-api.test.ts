// The REST API (issue 10 §1–2): cmdlets as resources with the command line's names and rules, bearer tokens with
// roles, tenant isolation, JSON errors, and an OpenAPI document that lists every route. Run with Fastify's inject
// (the same router, validation and serialization as a socket) on both databases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { buildApi, RESULT_MEDIA_TYPE } from '../src/http/app.js';
import { CMDLET_ROUTES, NOT_ON_THE_API, type Role } from '../src/http/routes.js';
import { beatWorker } from '../src/store/worker-repo.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const DAY = 86_400_000;

describe('the route table', () => {
  it('holds every cmdlet once: a route, or a reason it has none yet', () => {
    for (const c of CMDLETS) {
      const routed = c.name in CMDLET_ROUTES;
      const excused = c.name in NOT_ON_THE_API;
      assert.ok(routed !== excused, `${c.name}: ${routed ? 'both routed and excused' : 'neither routed nor excused'}`);
    }
    for (const name of [...Object.keys(CMDLET_ROUTES), ...Object.keys(NOT_ON_THE_API)]) assert.ok(CMDLETS.some((c) => c.name === name), `${name} is not a cmdlet`);
    const seen = new Set<string>();
    for (const r of Object.values(CMDLET_ROUTES)) {
      const key = `${r.method} ${r.url}`;
      assert.ok(!seen.has(key), `${key} twice`);
      seen.add(key);
    }
  });

  it('takes no file path of the server: a file parameter is left out of its route, or its content is the body or the answer', () => {
    assert.deepEqual(Object.keys(NOT_ON_THE_API), ['Invoke-MmsMeetingMigrationTool'], 'only the tool that works on the admin\'s own files stays off the API');
    for (const c of CMDLETS) {
      const route = CMDLET_ROUTES[c.name];
      if (!route) continue;
      for (const p of c.params.filter((x) => /Path$|File$/.test(x.name))) assert.ok(route.omit?.includes(p.name), `${c.name} -${p.name} is a file of the caller's machine: put it in omit`);
      if (route.file) {
        assert.ok(route.omit?.includes(route.file.param) && c.params.some((p) => p.name === route.file!.param), `${c.name}: its file parameter is one of its own, and omitted`);
        assert.equal(route.method === 'GET', route.file.direction === 'answer', `${c.name}: a GET answers the file, a change takes it as the body`);
      }
    }
    assert.equal(CMDLET_ROUTES['Import-MmsCalendar']?.file?.mediaType, 'text/calendar');
    assert.equal(CMDLET_ROUTES['Export-MmsCalendar']?.url, CMDLET_ROUTES['Import-MmsCalendar']?.url, 'one resource: the mailbox\'s calendar');
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the REST API`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    let app: FastifyInstance;
    const tokens: Record<string, string> = {};
    const mms = (...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, () => NOW, argv);
    const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, token: string | undefined, payload?: unknown, accept?: string) =>
      app.inject({ method, url, payload: payload as never, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(accept ? { accept } : {}) } });

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [
        ['New-MmsTenant', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsTenant', 'Fabrikam', '-Domain', 'fabrikam.com'],
        ['New-MmsBridge', 'Contoso US', '-TollNumber', '+12065550100', '-Default', '-Tenant', 'Contoso'],
        ['New-MmsBridge', 'Fabrikam US', '-TollNumber', '+12065550199', '-Default', '-Tenant', 'Fabrikam'],
        ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy', '-Tenant', 'Contoso'],
        ['New-MmsUser', 'fay@fabrikam.com', '-DisplayName', 'Fay', '-Tenant', 'Fabrikam'],
      ]) {
        const r = await mms(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      }
      const contoso = await resolveTenant(fresh.db, 'Contoso');
      const fabrikam = await resolveTenant(fresh.db, 'Fabrikam');
      const make = async (name: string, role: Role, tenant: typeof contoso | null, lifetimeMs: number | null = DAY) =>
        (tokens[name] = (await createApiToken(fresh.db, { name, role, tenant, lifetimeMs, actor: 'tester', now: NOW })).token);
      await make('contoso-read', 'ReadOnly', contoso);
      await make('contoso-ops', 'Operator', contoso);
      await make('contoso-admin', 'TenantAdmin', contoso);
      await make('fabrikam-admin', 'TenantAdmin', fabrikam);
      await make('service', 'ServiceAdmin', null);
      await make('short-lived', 'TenantAdmin', contoso, 60_000);
      app = await buildApi({ db: fresh.db, config: loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0' }), cmdlets: CMDLETS, now: () => NOW + 120_000 });
    });
    after(async () => {
      await app?.close();
      await fresh?.drop();
    });

    it('refuses a request without a token, with a wrong one, an expired or a revoked one: 401, JSON, one line that says what to do', async () => {
      const none = await call('GET', '/api/v1/migration-configuration', undefined);
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="mms"');
      assert.deepEqual(none.json(), { error: 'Unauthorized', message: 'this API needs a token: send Authorization: Bearer <token> (create one with mms New-MmsApiToken)' });
      const forged = tokens['contoso-read']!.slice(0, -4) + 'AAAA';
      assert.match((await call('GET', '/api/v1/migration-configuration', forged)).json().message, /not known/);
      const expired = await call('GET', '/api/v1/migration-configuration', tokens['short-lived']);
      assert.equal(expired.statusCode, 401);
      assert.match(expired.json().message, /^the token 'short-lived' expired on 2026-11-30T12:01:00.000Z: create a new one/);
      assert.equal((await mms('Revoke-MmsApiToken', 'contoso-ops')).code, 0);
      const revoked = await call('GET', '/api/v1/migration-configuration', tokens['contoso-ops']);
      assert.equal(revoked.statusCode, 401);
      assert.match(revoked.json().message, /was revoked/);
    });

    it('answers a read as --json does; a ReadOnly token cannot change anything (403 naming the role needed)', async () => {
      const r = await call('GET', '/api/v1/migration-configuration', tokens['contoso-read']);
      assert.equal(r.statusCode, 200, r.body);
      const cli = await mms('Get-CsTenantMigrationConfiguration', '-Tenant', 'Contoso', '--json');
      assert.deepEqual(r.json(), JSON.parse(cli.out));
      const w = await call('PATCH', '/api/v1/dial-in-settings', tokens['contoso-read'], { PinLength: 7 });
      assert.equal(w.statusCode, 403);
      assert.equal(w.json().message, "the token 'contoso-read' is ReadOnly; this needs TenantAdmin or above");
    });

    it('a change made with a token is written to the audit log under the token\'s name', async () => {
      const w = await call('PATCH', '/api/v1/dial-in-settings', tokens['contoso-admin'], { PinLength: 7 });
      assert.equal(w.statusCode, 200, w.body);
      const settings = await call('GET', '/api/v1/dial-in-settings', tokens['contoso-read']);
      assert.equal(settings.json().PinLength, 7);
      const audit = JSON.parse((await mms('Get-MmsAuditLog', '-Tenant', 'Contoso', '--json')).out) as Array<Record<string, unknown>>;
      const row = audit.find((a) => a.Cmdlet === 'Set-CsOnlineDialInConferencingTenantSettings');
      assert.equal(row?.Actor, 'api:contoso-admin');
    });

    it('validates bodies strictly (types as JSON, no unknown fields) and values with the command line\'s own rules', async () => {
      const text = await call('PATCH', '/api/v1/dial-in-settings', tokens['contoso-admin'], { PinLength: '7' });
      assert.equal(text.statusCode, 400);
      assert.match(text.json().message, /PinLength in the body must be integer/);
      const unknown = await call('PATCH', '/api/v1/dial-in-settings', tokens['contoso-admin'], { PinLenght: 7 });
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.json().message, /has no field PinLenght/);
      const upn = await call('POST', '/api/v1/users', tokens['contoso-admin'], { UserPrincipalName: 'not an address', DisplayName: 'X' });
      assert.equal(upn.statusCode, 400);
      const cli = await mms('New-MmsUser', 'not an address', '-DisplayName', 'X', '-Tenant', 'Contoso');
      assert.equal(upn.json().message, cli.err.replace(/^mms: /, '').trim(), 'the same message as the command line');
      const bare = await call('POST', '/api/v1/outbox/send', tokens['contoso-admin']);
      assert.equal(bare.statusCode, 400, 'no body means no fields: the cmdlet\'s own rule answers');
      assert.match(bare.json().message, /^Send-MmsOutbox needs -Retry/);
      const form = await app.inject({ method: 'POST', url: '/api/v1/outbox/send', payload: 'Retry=true', headers: { authorization: `Bearer ${tokens['contoso-admin']}`, 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(form.statusCode, 415);
      assert.equal(form.json().message, 'send the fields as JSON, with content-type: application/json');
      const range = await call('GET', '/api/v1/migrations?StartTime=2026-12-01&EndTime=2026-11-01', tokens['contoso-read']);
      assert.equal(range.statusCode, 400);
      assert.match(range.json().message, /-StartTime .* is after -EndTime/);
    });

    it('keeps tenants apart: another tenant\'s token sees none of Contoso and cannot name it', async () => {
      const users = await call('GET', '/api/v1/dial-in-users', tokens['fabrikam-admin']);
      assert.equal(users.statusCode, 200, users.body);
      assert.deepEqual((users.json() as Array<{ Identity: string }>).map((u) => u.Identity), ['fay@fabrikam.com']);
      const named = await call('GET', '/api/v1/dial-in-users?Tenant=Contoso', tokens['fabrikam-admin']);
      assert.equal(named.statusCode, 404);
      assert.doesNotMatch(named.body, /amy|contoso\.com/);
      const change = await call('PATCH', '/api/v1/users/amy@contoso.com', tokens['fabrikam-admin'], { TimeZone: 'Europe/Paris' });
      assert.equal(change.statusCode, 404);
      assert.doesNotMatch(change.body, /Amy/);
      const service = await call('GET', '/api/v1/dial-in-users?Tenant=Contoso', tokens.service);
      assert.deepEqual((service.json() as Array<{ Identity: string }>).map((u) => u.Identity), ['amy@contoso.com']);
    });

    it('a token cannot make a token above its own role; a TenantAdmin makes one for its own tenant', async () => {
      const up = await call('POST', '/api/v1/api-tokens', tokens['contoso-admin'], { Name: 'escalate', Role: 'ServiceAdmin' });
      assert.equal(up.statusCode, 403);
      const ok = await call('POST', '/api/v1/api-tokens', tokens['contoso-admin'], { Name: 'contoso-bot', Role: 'Operator', ExpiresIn: '1d' });
      assert.equal(ok.statusCode, 200, ok.body);
      const made = ok.json() as { Token: string; Tenant: string };
      assert.equal(made.Tenant, 'Contoso');
      assert.equal((await call('GET', '/api/v1/migrations', made.Token)).statusCode, 200);
      // Names are unique within a tenant: a name Contoso uses tells Fabrikam nothing (no 409).
      const same = await call('POST', '/api/v1/api-tokens', tokens['fabrikam-admin'], { Name: 'contoso-read', Role: 'ReadOnly', ExpiresIn: '1d' });
      assert.equal(same.statusCode, 200, same.body);
      assert.equal((await call('POST', '/api/v1/api-tokens', tokens['fabrikam-admin'], { Name: 'CONTOSO-READ', Role: 'ReadOnly' })).statusCode, 409, 'twice in one tenant');
      const listed = (await call('GET', '/api/v1/api-tokens', tokens['fabrikam-admin'])).json() as Array<{ Name: string }>;
      assert.deepEqual(listed.map((x) => x.Name), ['fabrikam-admin', 'contoso-read'], 'Fabrikam sees its own tokens only');
      const ambiguous = await mms('Revoke-MmsApiToken', 'contoso-read');
      assert.equal(ambiguous.code, 2);
      assert.match(ambiguous.err, /2 tenants have a token named 'contoso-read': give -Tenant/);
      assert.equal((await mms('Revoke-MmsApiToken', 'contoso-read', '-Tenant', 'Fabrikam')).code, 0);
      assert.equal((await call('GET', '/api/v1/migration-configuration', tokens['contoso-read'])).statusCode, 200, 'Contoso\'s token of that name still works');
      assert.doesNotMatch(JSON.stringify(listed), /mms_/);
    });

    it('gives a remote mms the whole result (columns and paging) when it asks for it', async () => {
      const r = await call('GET', '/api/v1/audit-log?First=1', tokens['contoso-read'], undefined, RESULT_MEDIA_TYPE);
      assert.equal(r.statusCode, 200);
      const body = r.json() as { kind: string; rows: unknown[]; columns: string[]; page: { total: number; skip: number } };
      assert.equal(body.kind, 'rows');
      assert.equal(body.rows.length, 1);
      assert.ok(body.page.total > 1);
      assert.ok(body.columns.includes('Cmdlet'));
      const plain = await call('GET', '/api/v1/audit-log?First=1', tokens['contoso-read']);
      assert.equal(plain.headers['x-total-count'], String(body.page.total));
    });

    it('/metrics counts requests, the runnable queue and its age, and HTTP latencies per route template, naming no tenant or user', async () => {
      // Queued at NOW on the command line's clock; the API's clock reads NOW + 2 minutes.
      const start = await mms('Start-CsExMeetingMigration', 'amy@contoso.com', '-Tenant', 'Contoso');
      assert.equal(start.code, 0, start.err);
      await call('GET', '/api/v1/users/amy@contoso.com/meetings', tokens['contoso-read']);
      const text = (await call('GET', '/metrics', undefined)).body;
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        assert.ok(line, `${series} is missing:\n${text.slice(0, 2000)}`);
        return Number(line.slice(series.length + 1));
      };
      assert.equal(value('mms_migration_requests{state="Pending"}'), 1);
      assert.equal(value('mms_queue_runnable_requests'), 1);
      assert.equal(value('mms_queue_oldest_runnable_age_seconds'), 120);
      assert.ok(value('mms_http_request_duration_seconds_count{method="GET",route="/api/v1/users/:Identity/meetings",status="200"}') >= 1);
      assert.doesNotMatch(text, /contoso|fabrikam|amy/i);
    });

    it('prints an OpenAPI 3.1 document with every route, its fields and bearer security; /healthz and /readyz answer', async () => {
      const doc = (await call('GET', '/api/openapi.json', undefined)).json() as { openapi: string; paths: Record<string, Record<string, { operationId: string; security: unknown }>> };
      assert.equal(doc.openapi, '3.1.0');
      for (const [name, route] of Object.entries(CMDLET_ROUTES)) {
        const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
        const op = doc.paths[path]?.[route.method.toLowerCase()];
        assert.equal(op?.operationId, name, `${route.method} ${path}`);
        assert.deepEqual(op?.security, [{ bearer: [] }]);
      }
      assert.deepEqual((await call('GET', '/healthz', undefined)).json(), { status: 'ok' });
      const idle = await call('GET', '/readyz', undefined);
      assert.equal(idle.statusCode, 503, 'no worker has beaten in this database');
      assert.deepEqual(idle.json(), { status: 'not ready', message: 'no migration worker is running (none seen yet); mms serve starts one' });
      await beatWorker(fresh.db.kysely, { id: 'rest-api', host: 'test', pid: process.pid, startedAt: NOW, now: NOW + 120_000, beatMs: 1000 });
      assert.deepEqual((await call('GET', '/readyz', undefined)).json(), { status: 'ready' });
      const docs = await call('GET', '/api/docs/', undefined);
      assert.equal(docs.statusCode, 200);
      assert.match(docs.body, /<div id="swagger-ui">/);
      assert.doesNotMatch(docs.body, /https?:\/\/(?!127\.0\.0\.1|localhost)[a-z]/i, 'every asset from this server');
      assert.match(String(docs.headers['content-security-policy']), /frame-ancestors 'none'/);
      const missing = await call('GET', '/api/v1/nothing', tokens['contoso-read']);
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    });
  });
}
