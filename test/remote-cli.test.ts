// A remote mms (issue 10 §1): with MMS_SERVER_URL and MMS_TOKEN, every cmdlet goes to the service's REST API over a
// real socket and prints exactly what it prints on the database, with the same exit codes; no database is opened.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { createApiToken } from '../src/http/api-tokens.js';
import { buildApi } from '../src/http/app.js';
import { beatWorker } from '../src/store/worker-repo.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';

const NOW = Date.UTC(2026, 10, 30, 12);

/** A loopback port nothing listens on (taken and given back). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}
// A database path that cannot be opened: a remote mms that touched it would fail.
const NO_DATABASE = '/dev/null/not-a-folder/mms.sqlite';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: mms against a remote service`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    let app: FastifyInstance;
    let url = '';
    let token = '';
    const local = (...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, () => NOW, argv);
    const remote = (env: Record<string, string>, ...argv: string[]) => runMms({ MMS_DATABASE_URL: NO_DATABASE, MMS_SERVER_URL: url, MMS_TOKEN: token, ...env }, () => NOW, argv);

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [
        ['New-MmsTenant', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsBridge', 'Contoso US', '-TollNumber', '+12065550100', '-Default'],
        ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Albers'],
        ['New-MmsUser', 'ben@contoso.com', '-DisplayName', 'Ben Bauer'],
        ['Set-MmsUserLicense', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing'],
      ]) {
        const r = await local(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      }
      token = (await createApiToken(fresh.db, { name: 'laptop', role: 'TenantAdmin', tenant: await resolveTenant(fresh.db, 'Contoso'), lifetimeMs: 86_400_000, actor: 'tester', now: NOW })).token;
      // The service a remote mms talks to runs a worker beside its API: it beats here as that worker would, so the
      // local runs compared below do not warn that none runs.
      await beatWorker(fresh.db.kysely, { id: 'remote-cli', host: 'test', pid: process.pid, startedAt: NOW, now: NOW, beatMs: 1000 });
      app = await buildApi({ db: fresh.db, config: loadConfig({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0' }), cmdlets: CMDLETS, now: () => NOW });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const a = app.server.address();
      url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    });
    after(async () => {
      await app?.close();
      await fresh?.drop();
    });

    it('prints tables, lists, JSON and the paging line exactly as on the database', async () => {
      for (const argv of [
        ['Get-CsOnlineDialInConferencingUser'],
        ['Get-CsOnlineDialInConferencingUser', 'amy@contoso.com'],
        ['Get-CsOnlineDialInConferencingTenantSettings', '--json'],
        ['Get-MmsAuditLog', '-First', '2'],
        ['Get-CsMeetingMigrationStatus', '-SummaryOnly'],
        ['Get-CsMeetingMigrationStatus', '-StartTime', '2026-11-01', '-EndTime', '2026-11-30'],
      ]) {
        const there = await remote({}, ...argv);
        const here = await local(...argv);
        assert.equal(there.code, here.code, `${argv.join(' ')}: ${there.err}`);
        assert.equal(there.out, here.out, argv.join(' '));
        assert.equal(there.err, here.err, argv.join(' '));
      }
    });

    it('a change is made by the service, audited under the token\'s name', async () => {
      const r = await remote({}, 'Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', '7');
      assert.equal(r.code, 0, r.err);
      const audit = JSON.parse((await local('Get-MmsAuditLog', '--json')).out) as Array<{ Cmdlet: string; Actor: string }>;
      assert.equal(audit.find((a) => a.Cmdlet === 'Set-CsOnlineDialInConferencingTenantSettings')?.Actor, 'api:laptop');
    });

    it('keeps exit codes and lines: usage 2, not found 1, a refused token 1, a cmdlet without a route 2, no service 1', async () => {
      const usage = await remote({}, 'New-MmsUser', 'not an address', '-DisplayName', 'X');
      const usageHere = await local('New-MmsUser', 'not an address', '-DisplayName', 'X');
      assert.equal(usage.code, 2);
      assert.equal(usage.err, usageHere.err);
      const missing = await remote({}, 'Get-CsOnlineDialInConferencingUser', 'nobody@contoso.com');
      assert.equal(missing.code, 1);
      assert.equal(missing.err, (await local('Get-CsOnlineDialInConferencingUser', 'nobody@contoso.com')).err);
      const refused = await remote({ MMS_TOKEN: 'mms_0000000000000000_' + 'A'.repeat(43) }, 'Get-CsTenantMigrationConfiguration');
      assert.equal(refused.code, 1);
      assert.match(refused.err, /^mms: the service refused MMS_TOKEN: the token is not known/);
      const file = await remote({}, 'Invoke-MmsMeetingMigrationTool', 'amy@contoso.com', '-InputPath', 'x.ics', '-OutputPath', 'y.ics');
      assert.equal(file.code, 2);
      assert.match(file.err, /^mms: Invoke-MmsMeetingMigrationTool cannot run against a remote MMS yet \(works on files and CalDAV servers from the admin's machine/);
      const closed = await freePort();
      const down = await remote({ MMS_SERVER_URL: `http://127.0.0.1:${closed}` }, 'Get-CsTenantMigrationConfiguration');
      assert.equal(down.code, 1);
      assert.equal(down.err, `mms: the MMS service at http://127.0.0.1:${closed} did not answer (ECONNREFUSED); check MMS_SERVER_URL and that mms serve runs there\n`);
    });

    it('refuses to send a token in the clear to another machine, or a token without a server', async () => {
      const clear = await remote({ MMS_SERVER_URL: 'http://mms.contoso.com' }, 'Get-CsTenantMigrationConfiguration');
      assert.equal(clear.code, 2);
      assert.match(clear.err, /^mms: MMS_SERVER_URL="http:\/\/mms\.contoso\.com" is not valid: plain http:\/\/ would send the token in the clear/);
      assert.doesNotMatch(clear.err, new RegExp(token.slice(4, 20)));
      const lone = await runMms({ MMS_DATABASE_URL: fresh.url, MMS_TOKEN: token }, () => NOW, ['Get-CsTenantMigrationConfiguration']);
      assert.equal(lone.code, 2);
      assert.match(lone.err, /MMS_TOKEN is set but MMS_SERVER_URL is not/);
    });
  });
}
