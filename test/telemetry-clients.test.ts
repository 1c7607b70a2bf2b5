// MMS's own clients report through the telemetry SDK (issue 11 §4), on both databases: the `mms` CLI, opted in with
// MMS_TELEMETRY_URL and MMS_TELEMETRY_INGESTION_KEY, reports census and the cmdlet it ran, never changes a cmdlet's
// output or exit code, keeps what it could not send for the next run, and sends nothing when not configured; the
// admin center (a real browser, one page visit) reports census and the page used through its session relay, and
// error reports only once the admin opted in.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startAdminCenter } from './helpers/admin-center.js';
import { browserSkip, suiteBrowser } from './helpers/browser.js';
import { BIN, ROOT, childEnv, ensureBuiltDist } from './helpers/built-dist.js';
import { sha256Hex } from '../src/telemetry/index.js';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { freePort, servedTelemetry, type ServedTelemetry } from './helpers/telemetry-serve.js';
import { waitFor } from './helpers/worker-process.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-telemetry-clients-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Row = Record<string, unknown>;

/** `node bin/mms.js <argv>` (the built CLI, as users run it). */
function mmsChild(env: Record<string, string>, argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...argv], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

describe('the package exports the SDK as meeting-migration-service/telemetry', () => {
  before(ensureBuiltDist, { timeout: 300_000 });
  it('resolves through package.json "exports" to the built module, with its type declarations beside it', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    assert.ok(fs.existsSync(path.join(ROOT, pkg.exports['./telemetry']!.types)), 'the declarations are built');
    const sdk = (await import('meeting-migration-service/telemetry' as string)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(sdk).sort(), ['TelemetryClient', 'fileDeviceId', 'hashUserId', 'localStorageDeviceId', 'normalizeUserId']);
    assert.equal(import.meta.resolve('meeting-migration-service/telemetry'), pathToFileURL(path.join(ROOT, pkg.exports['./telemetry']!.default)).href);
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the mms CLI reports telemetry when configured`, { skip: t.skip }, () => {
    let w: ServedTelemetry;
    before(async () => {
      ensureBuiltDist();
      w = await servedTelemetry(t);
      await w.start();
    }, { timeout: 300_000 });
    after(async () => w?.close());

    const features = async () => (await w.fresh.db.kysely.selectFrom('telemetry_usage').select(['app_name', 'features']).orderBy('id').execute()).map((r) => `${r.app_name} ${r.features}`);

    it('reports census and the cmdlet; a service that is down changes nothing for the cmdlet and the next run sends what was kept; unset, nothing is sent', { timeout: 120_000 }, async () => {
      const dir = path.join(tmp, `${t.name}-cli`);
      const telemetry = { MMS_TELEMETRY_URL: w.url, MMS_TELEMETRY_INGESTION_KEY: w.key, MMS_TELEMETRY_DIR: dir, MMS_DEBUG: 'telemetry' };
      const plain = await mmsChild(w.env, ['Get-CsTenantMigrationConfiguration']);
      assert.equal(plain.code, 0, plain.err);

      const first = await mmsChild({ ...w.env, ...telemetry }, ['Get-CsTenantMigrationConfiguration']);
      assert.deepEqual([first.code, first.out], [0, plain.out]);
      assert.match(first.err, /telemetry: 2 accepted, 0 refused, 0 not sent \(the service's config\), 0 dropped, 0 kept for the next run/);
      const census = (await w.fresh.db.kysely.selectFrom('telemetry_census').selectAll().execute()) as Row[];
      assert.deepEqual(census.map((r) => [r.app_name, r.os_name, r.os_version, r.app_version]), [['mms-cli', os.type(), os.release().slice(0, 32), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version]]);
      assert.deepEqual(await features(), ['mms-cli {"Get-CsTenantMigrationConfiguration":1}']);

      const down = await mmsChild({ ...w.env, ...telemetry, MMS_TELEMETRY_URL: `http://127.0.0.1:${await freePort()}` }, ['Get-MmsTelemetryConfiguration']);
      assert.equal(down.code, 0, down.err);
      assert.match(down.out, /DisableAutomaticSendTracing/);
      assert.match(down.err, /ECONNREFUSED[\s\S]*1 kept for the next run/);
      assert.equal(fs.readdirSync(dir).filter((n) => n.startsWith('spool-')).length, 1);

      const next = await mmsChild({ ...w.env, ...telemetry }, ['get-cstenantmigrationconfiguration']);
      assert.equal(next.code, 0, next.err);
      assert.match(next.err, /telemetry: 2 accepted/);
      assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('spool-')), []);
      // Census once a day per device; the kept usage event first, then this run's (the cmdlet's own name, not as typed).
      assert.equal((await w.fresh.db.kysely.selectFrom('telemetry_census').selectAll().execute()).length, 1);
      assert.deepEqual(await features(), ['mms-cli {"Get-CsTenantMigrationConfiguration":1}', 'mms-cli {"Get-MmsTelemetryConfiguration":1}', 'mms-cli {"Get-CsTenantMigrationConfiguration":1}']);

      const off = path.join(tmp, `${t.name}-off`);
      const unset = await mmsChild({ ...w.env, MMS_TELEMETRY_URL: w.url, MMS_TELEMETRY_DIR: off, MMS_DEBUG: 'telemetry' }, ['Get-CsTenantMigrationConfiguration']);
      assert.deepEqual([unset.code, unset.out, unset.err], [0, plain.out, '']);
      assert.equal(fs.existsSync(off), false);
      assert.equal((await features()).length, 3);
    });

    it('a service that accepts but never answers costs one run the wait, later runs spool at once; plain http:// to another host leaves telemetry off', { timeout: 120_000 }, async () => {
      const held: net.Socket[] = [];
      const hung = net.createServer((socket) => void held.push(socket));
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      try {
        const dir = path.join(tmp, `${t.name}-hung`);
        const telemetry = { MMS_TELEMETRY_URL: `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`, MMS_TELEMETRY_INGESTION_KEY: w.key, MMS_TELEMETRY_DIR: dir, MMS_DEBUG: 'telemetry' };
        const first = await mmsChild({ ...w.env, ...telemetry }, ['Get-CsTenantMigrationConfiguration']);
        assert.equal(first.code, 0, first.err);
        assert.match(first.err, /(timeout|ran out of time)[\s\S]*2 kept for the next run/);
        assert.ok(Number(fs.readFileSync(path.join(dir, 'backoff-until'), 'utf8')) > Date.now());
        assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
        const connections = held.length;
        const second = await mmsChild({ ...w.env, ...telemetry }, ['Get-CsTenantMigrationConfiguration']);
        assert.equal(second.code, 0, second.err);
        assert.match(second.err, /not tried again[\s\S]*3 kept for the next run/);
        assert.equal(held.length, connections, 'the second run made no connection');
        assert.equal(fs.readdirSync(dir).filter((n) => n.startsWith('spool-')).length, 1);
      } finally {
        for (const socket of held) socket.destroy();
        hung.close();
      }

      const clear = path.join(tmp, `${t.name}-clear`);
      const r = await mmsChild({ ...w.env, MMS_TELEMETRY_URL: 'http://mms.contoso.com', MMS_TELEMETRY_INGESTION_KEY: w.key, MMS_TELEMETRY_DIR: clear, MMS_DEBUG: 'telemetry' }, ['Get-CsTenantMigrationConfiguration']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /telemetry is off: plain http:\/\/ to mms\.contoso\.com/);
      assert.equal(fs.existsSync(clear), false);
    });
  });
}

describe('the admin center reports telemetry through its session relay', { skip: browserSkip }, () => {
  const browser = suiteBrowser();
  for (const t of TEST_DATABASES) {
    it(`${t.name}: one page visit gives census and the page's usage; script errors only once the admin opted in`, { skip: t.skip, timeout: 240_000 }, async () => {
      const env: Record<string, string> = t.name === 'postgres' ? { MMS_TELEMETRY_KEY: randomBytes(32).toString('base64') } : {};
      const ac = await startAdminCenter(browser(), t, { env });
      const k = ac.fresh.db.kysely;
      try {
        const res = await ac.page.goto(`${ac.base}/users`);
        assert.equal(res?.status(), 200);
        const census = await waitFor('the admin center\'s census', async () => {
          const r = (await k.selectFrom('telemetry_census').selectAll().where('app_name', '=', 'mms-admin-center').execute()) as Row[];
          return r.length > 0 && r;
        }, { timeoutMs: 60_000 });
        assert.equal(census.length, 1);
        assert.ok(!JSON.stringify(census).includes('"admin"') && census[0]!.user_hash !== sha256Hex('admin'), 'the admin\'s name is stored neither in clear nor as its plain SHA-256');
        const usage = await waitFor('the page\'s usage', async () => {
          const r = await k.selectFrom('telemetry_usage').select('features').where('app_name', '=', 'mms-admin-center').execute();
          return r.length > 0 && r.map((x) => JSON.parse(x.features));
        }, { timeoutMs: 60_000 });
        assert.deepEqual(usage, [{ 'page.users': 1 }]);

        // Not opted in: a script error is not sent (the SDK knows from the config), then the next page is used.
        await ac.page.waitForSelector('body[data-telemetry="on"]');
        await ac.page.evaluate(() => setTimeout(() => { throw new Error('boom before opt-in'); }));
        await ac.page.goto(`${ac.base}/migrations`);
        await waitFor('the second page\'s usage', async () => (await k.selectFrom('telemetry_usage').select('id').where('app_name', '=', 'mms-admin-center').execute()).length === 2, { timeoutMs: 60_000 });
        const optIn = await runMms({ MMS_DATABASE_URL: ac.fresh.url, MMS_ACTOR: 'tester', ...env }, Date.now, ['Set-MmsUserTelemetry', 'admin', '-ErrorReportingOptIn', '$true']);
        assert.equal(optIn.code, 0, optIn.err);
        await ac.page.goto(`${ac.base}/audit`);
        await ac.page.waitForSelector('body[data-telemetry="on"]');
        await ac.page.evaluate(() => setTimeout(() => { throw new Error('boom after opt-in'); }));
        // Leaving the page sends what waits (pagehide).
        await ac.page.goto(`${ac.base}/`);
        const errors = await waitFor('the opted-in admin\'s error report', async () => {
          const r = await k.selectFrom('telemetry_errors').select(['error_code', 'details', 'user_hash']).execute();
          return r.length > 0 && r;
        }, { timeoutMs: 60_000 });
        assert.equal(errors.length, 1);
        assert.equal(errors[0]!.error_code, 'ScriptError');
        assert.match(errors[0]!.details, /boom after opt-in/);
        assert.match(String(errors[0]!.user_hash), /^[0-9a-f]{64}$/);
      } finally {
        await ac.stop();
      }
    });
  }
});
