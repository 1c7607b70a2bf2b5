// Import-MmsCalendar and Export-MmsCalendar over REST (issue 10 §1): the .ics travels as a text/calendar body and
// answer, never as a path on the server; what comes in goes back out byte for byte; a remote mms reads and writes
// the file on its own machine. Bad bodies get one line and a 4xx; roles and tenants are kept apart. Both databases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { buildApi, RESULT_MEDIA_TYPE } from '../src/http/app.js';
import { CALENDAR_BODY_LIMIT, type Role } from '../src/http/routes.js';
import { beatWorker } from '../src/store/worker-repo.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const bytesOf = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, name));
const CALENDAR = '/api/v1/users/amy@contoso.com/calendar';
// A database path that cannot be opened: a remote mms that touched it would fail.
const NO_DATABASE = '/dev/null/not-a-folder/mms.sqlite';

/** An error answer: JSON `{ error, message }`, the message one line. */
function assertOneLine(r: { statusCode: number; body: string; json(): unknown }, status: number, message: RegExp): void {
  assert.equal(r.statusCode, status, r.body);
  const body = r.json() as { error: string; message: string };
  assert.equal(typeof body.error, 'string');
  assert.match(body.message, message);
  assert.doesNotMatch(body.message, /[\r\n]/);
  assert.doesNotMatch(r.body, /at .*\.ts:\d+/, 'no stack trace');
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: calendars over REST`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    let app: FastifyInstance;
    let url = '';
    let dir = '';
    const tokens: Record<string, string> = {};
    const local = (...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, () => NOW, argv);
    const remote = (...argv: string[]) => runMms({ MMS_DATABASE_URL: NO_DATABASE, MMS_SERVER_URL: url, MMS_TOKEN: tokens['contoso-admin']! }, () => NOW, argv);
    const put = (token: string | undefined, body: Buffer | string | object, contentType = 'text/calendar', target = CALENDAR, accept?: string) =>
      app.inject({ method: 'POST', url: target, payload: body as never, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': contentType, ...(accept ? { accept } : {}) } });
    const get = (token: string | undefined, target = CALENDAR) => app.inject({ method: 'GET', url: target, headers: token ? { authorization: `Bearer ${token}` } : {} });

    before(async () => {
      fresh = await t.fresh();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-calendar-rest-'));
      for (const argv of [
        ['New-MmsTenant', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsTenant', 'Fabrikam', '-Domain', 'fabrikam.com'],
        ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy', '-Tenant', 'Contoso'],
        ['New-MmsUser', 'ben@contoso.com', '-DisplayName', 'Ben', '-Tenant', 'Contoso'],
        ['New-MmsUser', 'cal@contoso.com', '-DisplayName', 'Cal', '-Tenant', 'Contoso'],
        ['New-MmsUser', 'dee@contoso.com', '-DisplayName', 'Dee', '-Tenant', 'Contoso'],
        ['New-MmsUser', 'fay@fabrikam.com', '-DisplayName', 'Fay', '-Tenant', 'Fabrikam'],
      ]) {
        const r = await local(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      }
      const contoso = await resolveTenant(fresh.db, 'Contoso');
      const fabrikam = await resolveTenant(fresh.db, 'Fabrikam');
      const make = async (name: string, role: Role, tenant: typeof contoso) =>
        (tokens[name] = (await createApiToken(fresh.db, { name, role, tenant, lifetimeMs: 86_400_000, actor: 'tester', now: NOW })).token);
      await make('contoso-read', 'ReadOnly', contoso);
      await make('contoso-admin', 'TenantAdmin', contoso);
      await make('fabrikam-admin', 'TenantAdmin', fabrikam);
      // The service a remote mms talks to runs a worker: it beats here so local runs compared below do not warn.
      await beatWorker(fresh.db.kysely, { id: 'calendar-rest', host: 'test', pid: process.pid, startedAt: NOW, now: NOW, beatMs: 1000 });
      app = await buildApi({ db: fresh.db, config: loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0' }), cmdlets: CMDLETS, now: () => NOW });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const a = app.server.address();
      url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    });
    after(async () => {
      await app?.close();
      await fresh?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('a calendar imported through REST comes back from the export route byte for byte, as the command line exports it', async () => {
      const file = bytesOf('import-concatenated.ics');
      const r = await put(tokens['contoso-admin'], file);
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { Imported: 3, Replaced: 0, OnlineMeetings: 0, Problems: [] }, 'what --json prints');
      const out = await get(tokens['contoso-read']);
      assert.equal(out.statusCode, 200, out.body);
      assert.equal(out.headers['content-type'], 'text/calendar; charset=utf-8');
      assert.equal(out.headers['content-disposition'], 'attachment; filename="amy@contoso.com.ics"');
      assert.ok(out.rawPayload.equals(file), 'the same bytes');
      assert.equal(out.body, (await local('Export-MmsCalendar', 'amy@contoso.com', '-Path', '-', '-Tenant', 'Contoso')).out);
      // Right-to-left scripts, combining marks and emoji: every byte outside the block is kept.
      const rtl = bytesOf('ics/rtl-combining.ics');
      assert.equal((await put(tokens['contoso-admin'], rtl, 'text/calendar', '/api/v1/users/ben@contoso.com/calendar')).statusCode, 200);
      assert.ok((await get(tokens['contoso-read'], '/api/v1/users/ben@contoso.com/calendar')).rawPayload.equals(rtl));
      // Again: the same objects are replaced, and the file still comes back as it was.
      assert.deepEqual((await put(tokens['contoso-admin'], file)).json(), { Imported: 0, Replaced: 3, OnlineMeetings: 0, Problems: [] });
      assert.ok((await get(tokens['contoso-read'])).rawPayload.equals(file));
    });

    it('a remote mms sends the local .ics and writes the export to a local file (or standard output), printing what a local run prints', async () => {
      const src = path.join(dir, 'cal.ics');
      fs.copyFileSync(path.join(FIXTURES, 'ics/outlook-teams.ics'), src);
      const there = await remote('Import-MmsCalendar', 'cal@contoso.com', '-Path', src);
      assert.equal(there.code, 0, there.err);
      const here = await local('Import-MmsCalendar', 'dee@contoso.com', '-Path', src, '-Tenant', 'Contoso');
      assert.equal(there.out, here.out, 'the same table as a local import into a mailbox of the same state');
      const json = await remote('Import-MmsCalendar', 'cal@contoso.com', '-Path', src, '--json');
      assert.equal(json.code, 0, json.err);
      assert.equal(json.out, (await local('Import-MmsCalendar', 'dee@contoso.com', '-Path', src, '-Tenant', 'Contoso', '--json')).out);
      const dest = path.join(dir, 'out.ics');
      const exported = await remote('Export-MmsCalendar', 'cal@contoso.com', '-Path', dest);
      assert.equal(exported.code, 0, exported.err);
      const written = fs.readFileSync(dest);
      assert.equal(exported.out, `wrote ${written.byteLength} bytes to ${dest}\n`);
      assert.ok(written.equals(fs.readFileSync(src)), 'the file comes back as it was sent');
      const stdout = await remote('Export-MmsCalendar', 'cal@contoso.com', '-Path', '-');
      assert.equal(stdout.code, 0, stdout.err);
      assert.equal(stdout.out, written.toString('utf8'));
      // The file is checked on this machine, with the local command's lines and exit code, before anything is sent.
      const missing = path.join(dir, 'missing.ics');
      const nofile = await remote('Import-MmsCalendar', 'cal@contoso.com', '-Path', missing);
      assert.equal(nofile.code, 2);
      assert.equal(nofile.err, (await local('Import-MmsCalendar', 'cal@contoso.com', '-Path', missing, '-Tenant', 'Contoso')).err);
      const folder = await remote('Export-MmsCalendar', 'cal@contoso.com', '-Path', dir);
      assert.equal(folder.code, 2);
      assert.match(folder.err, /is a folder; give a file name in it/);
      // Nothing usable: the result is printed, then one line, exit 1 — as locally.
      const bad = path.join(dir, 'nothing.ics');
      fs.copyFileSync(path.join(FIXTURES, 'import-nothing-usable.ics'), bad);
      const none = await remote('Import-MmsCalendar', 'cal@contoso.com', '-Path', bad);
      assert.equal(none.code, 1);
      assert.match(none.err, /^mms: nothing was imported from the request body: see the 2 problems listed under Problems/);
      assert.equal(none.out, (await local('Import-MmsCalendar', 'cal@contoso.com', '-Path', bad, '-Tenant', 'Contoso')).out);
    });

    it('a body that is not a calendar gets a 4xx with one line that says what to send', async () => {
      assertOneLine(await put(tokens['contoso-admin'], { Path: '/etc/passwd' }, 'application/json'), 415, /^send the \.ics file as the request body, with content-type: text\/calendar, not application\/json$/);
      assertOneLine(await put(tokens['contoso-admin'], 'Path=x.ics', 'application/x-www-form-urlencoded'), 415, /^send the \.ics file as the request body, with content-type: text\/calendar$/);
      assertOneLine(await put(tokens['contoso-admin'], ''), 400, /^the request body is empty: send the \.ics file/);
      assertOneLine(await put(tokens['contoso-admin'], bytesOf('import-not-icalendar.ics')), 422, /^the request body is not an iCalendar file: /);
      assertOneLine(await put(tokens['contoso-admin'], bytesOf('import-latin1.ics')), 422, /^the request body.*UTF-8/);
      const nothing = await put(tokens['contoso-admin'], bytesOf('import-nothing-usable.ics'));
      assertOneLine(nothing, 422, /^nothing was imported from the request body/);
      assert.equal((nothing.json() as { Result: { Problems: string[] } }).Result.Problems.length, 2);
      // The whole result for a remote mms, with the failure it prints.
      const envelope = await put(tokens['contoso-admin'], bytesOf('import-nothing-usable.ics'), 'text/calendar', CALENDAR, RESULT_MEDIA_TYPE);
      assert.equal(envelope.statusCode, 200);
      assert.match((envelope.json() as { failure: string }).failure, /^nothing was imported/);
      // A path in the query is not a field of the route: the server never opens a file it names.
      assertOneLine(await put(tokens['contoso-admin'], bytesOf('import-concatenated.ics'), 'text/calendar', `${CALENDAR}?Path=/etc/passwd`), 400, /has no field Path/);
      assertOneLine(await app.inject({ method: 'GET', url: `${CALENDAR}?Path=/tmp/x.ics`, headers: { authorization: `Bearer ${tokens['contoso-read']}` } }), 400, /has no field Path/);
    });

    it('a calendar larger than the limit is refused 413 with one line naming the limit and what to do instead', async () => {
      const big = Buffer.alloc(CALENDAR_BODY_LIMIT + 1, 0x41);
      assertOneLine(await put(tokens['contoso-admin'], big), 413, /^the \.ics file is larger than 25 MiB, the most this route takes; send it in parts .* or import it on the server with mms Import-MmsCalendar -Path$/);
      // A JSON route keeps its own (smaller) limit and its own line.
      const json = await app.inject({ method: 'PATCH', url: '/api/v1/dial-in-settings', payload: JSON.stringify({ PinLength: 7, Pad: 'x'.repeat(1024 * 1024) }), headers: { authorization: `Bearer ${tokens['contoso-admin']}`, 'content-type': 'application/json' } });
      assertOneLine(json, 413, /^the request body is larger than 1 MiB/);
    });

    it('a ReadOnly token can export but not import; another tenant\'s token finds no such user', async () => {
      const file = bytesOf('import-concatenated.ics');
      assertOneLine(await put(tokens['contoso-read'], file), 403, /^the token 'contoso-read' is ReadOnly; this needs TenantAdmin or above$/);
      assertOneLine(await put(undefined, file), 401, /needs a token/);
      assert.equal((await get(tokens['contoso-read'])).statusCode, 200);
      const before = (await get(tokens['contoso-read'])).rawPayload;
      for (const r of [await put(tokens['fabrikam-admin'], file), await get(tokens['fabrikam-admin']), await get(tokens['fabrikam-admin'], `${CALENDAR}?Tenant=Contoso`)]) {
        assert.equal(r.statusCode, 404, r.body);
        assert.doesNotMatch(r.body, /BEGIN:VCALENDAR|Team|Amy/);
      }
      assert.ok((await get(tokens['contoso-read'])).rawPayload.equals(before), 'Contoso\'s calendar is unchanged');
    });

    it('the OpenAPI document gives the import a text/calendar request body and the export a text/calendar answer', async () => {
      const doc = (await get(undefined, '/api/openapi.json')).json() as { paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, unknown> }; responses: Record<string, { content?: Record<string, unknown> }>; parameters?: Array<{ name: string; in: string }> }>> };
      const p = doc.paths['/api/v1/users/{Identity}/calendar']!;
      assert.equal(p.post?.operationId, 'Import-MmsCalendar');
      assert.deepEqual(Object.keys(p.post?.requestBody?.content ?? {}), ['text/calendar']);
      assert.equal(p.get?.operationId, 'Export-MmsCalendar');
      assert.ok(p.get?.responses['200']?.content?.['text/calendar'], JSON.stringify(p.get?.responses));
      for (const op of [p.post, p.get]) assert.ok(!op?.parameters?.some((x) => x.name === 'Path'), 'no Path: the file stays on the caller\'s machine');
    });

    it('every cmdlet route documents its error body ({ error, message }) for 4xx and 5xx, and its 200 answer', async () => {
      type Op = { operationId?: string; responses: Record<string, { description?: string; content?: Record<string, { schema?: { properties?: Record<string, unknown>; required?: string[] } }> }> };
      const doc = (await get(undefined, '/api/openapi.json')).json() as { paths: Record<string, Record<string, Op>> };
      let routes = 0;
      for (const [, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          // Cmdlet routes are named after their cmdlet (Verb-Noun); the telemetry endpoints answer per-event results of their own.
          if (!op.operationId?.includes('-')) continue;
          routes++;
          for (const status of ['4XX', '5XX']) {
            const schema = op.responses[status]?.content?.['application/json']?.schema;
            assert.deepEqual(schema?.required, ['error', 'message'], `${method} ${op.operationId} ${status}: ${JSON.stringify(op.responses)}`);
            assert.ok(schema?.properties?.Result, 'the 422 of a failed import carries its result');
          }
          assert.ok(op.responses['200']?.description, `${op.operationId} 200`);
        }
      }
      assert.ok(routes >= 40, `${routes} routes`);
    });
  });
}
