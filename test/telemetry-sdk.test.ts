// The client telemetry SDK (issue 11 §4, §6) against the real endpoint over HTTP, on both databases: a real
// `mms serve` for what a client meets in the field — the user id hashed on the client exactly as the server expects,
// batches, the server's config obeyed (nothing sent that it would refuse), a server down when events are recorded
// and started later (every event arrives once), the bounded queue's drop count — and the Fastify app on a socket with
// a settable clock for the rate limit's 429, whose Retry-After (60 s) no test should sit out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTenant } from '../src/directory/index.js';
import { sha256Hex, normalizeUserId as serverNormalize, type CensusEvent, type ErrorEvent, type UsageEvent } from '../src/telemetry/index.js';
import { hashUserId, TelemetryClient, type TelemetryClientOptions } from '../src/telemetry/sdk/index.js';
import type * as Sdk from '../src/telemetry/sdk/events.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { usage as usageEvent, telemetryWorld, type TelemetryWorld } from './helpers/telemetry-fixture.js';
import { freePort, servedTelemetry, type ServedTelemetry } from './helpers/telemetry-serve.js';
import { ROOT, childEnv } from './helpers/built-dist.js';
import { waitFor } from './helpers/worker-process.js';

// The SDK's hand-written event types must stay assignable to the server's schemas (a compile error otherwise).
export const sdkEventsMatchServerSchemas = (c: Sdk.CensusEvent, u: Sdk.UsageEvent, e: Sdk.ErrorEvent): [CensusEvent, UsageEvent, ErrorEvent] => [c, u, e];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-telemetry-sdk-'));
const AMY = '  SIP:Amy.Albers@Contoso.com ';

type Row = Record<string, unknown>;

for (const t of TEST_DATABASES) {
  describe(`${t.name}: telemetry SDK against mms serve`, { skip: t.skip }, () => {
    let w: ServedTelemetry;
    const clients: TelemetryClient[] = [];
    const client = (opts: Partial<TelemetryClientOptions> = {}) => {
      const c = new TelemetryClient({
        serverUrl: w.url, ingestionKey: w.key, appName: 'SdkTestApp', appVersion: '1.0', userId: AMY,
        deviceIdStore: path.join(tmp, `${t.name}-device-id`), flushIntervalMs: 0, retryBaseMs: 20, retryMaxMs: 250, ...opts,
      });
      clients.push(c);
      return c;
    };
    const rows = async (table: 'telemetry_census' | 'telemetry_usage' | 'telemetry_errors'): Promise<Row[]> =>
      (await w.fresh.db.kysely.selectFrom(table).selectAll().orderBy('id').execute()) as Row[];
    const count = async (table: 'telemetry_census' | 'telemetry_usage' | 'telemetry_errors') => (await rows(table)).length;
    const set = async (...argv: string[]) => {
      const r = await w.mms(...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
    };

    before(async () => {
      w = await servedTelemetry(t);
    }, { timeout: 60_000 });
    after(async () => {
      for (const c of clients) await c.close(0);
      await w?.close();
    });

    it('keeps what it records while the server is down and sends every event once it is up, none twice', { timeout: 120_000 }, async () => {
      const c = client();
      await c.census({ DeviceModel: 'Laptop', OsName: 'Linux', OsVersion: '6.1', UserLanguage: 'en-US', SignInAttempts: 2, SignInFailures: 1 });
      for (let i = 0; i < 3; i++) await c.usage({ FeaturesUsed: { 'Get-MmsUser': i + 1 } });
      await c.flush();
      const down = c.stats();
      assert.equal(down.queued, 4);
      assert.equal(down.accepted, 0);
      assert.match(down.lastError ?? '', /ECONNREFUSED/);
      assert.ok(down.retries >= 1 && down.backoffUntil !== undefined, JSON.stringify(down));

      await w.start();
      // The client's own retry timer sends them: nobody calls flush() again.
      await waitFor('the kept events to be accepted', async () => c.stats().queued === 0 && c.stats().accepted === 4, { timeoutMs: 60_000 });
      assert.deepEqual(c.stats().refused, {});
      assert.equal(await count('telemetry_census'), 1);
      assert.deepEqual((await rows('telemetry_usage')).map((r) => JSON.parse(String(r.features))), [{ 'Get-MmsUser': 1 }, { 'Get-MmsUser': 2 }, { 'Get-MmsUser': 3 }]);
    });

    it('hashes the user id on the client exactly as the server expects; no row holds the id or its plain SHA-256', async () => {
      for (const id of [AMY, 'ben@contoso.com', 'sip:X@Y.Z', ' Ünïcode@Contoso.com\t']) assert.equal(await hashUserId(id), sha256Hex(serverNormalize(id)), id);
      const [census] = await rows('telemetry_census');
      const tenant = await resolveTenant(w.fresh.db, 'Contoso');
      const plainSha = sha256Hex('amy.albers@contoso.com');
      // The pseudonym is the server's key over the client's SHA-256 of the normalized id: the two hashes the reference promises.
      assert.equal(census!.user_hash, w.pseudonyms.of(tenant.id, 'census-user', Number(census!.epoch), plainSha));
      const device = await client().deviceId();
      assert.equal(census!.device_hash, w.pseudonyms.of(tenant.id, 'census-device', Number(census!.epoch), device.toLowerCase()));
      const everything = JSON.stringify([await rows('telemetry_census'), await rows('telemetry_usage'), await rows('telemetry_errors')]).toLowerCase();
      for (const secret of ['amy.albers', plainSha, device.toLowerCase()]) assert.ok(!everything.includes(secret), `stored rows contain ${secret}`);
    });

    it('keeps its DeviceId in the given file, and batches: 120 events in batches of 50 are three requests', async () => {
      const c = client({ maxBatch: 50 });
      assert.equal(await c.deviceId(), fs.readFileSync(path.join(tmp, `${t.name}-device-id`), 'utf8').trim());
      const before = await count('telemetry_usage');
      for (let i = 0; i < 120; i++) await c.usage({ ImSent: i });
      await c.flush();
      assert.equal(c.stats().accepted, 120);
      assert.equal(c.stats().requests, 4, 'one config read and three batches');
      assert.equal(await count('telemetry_usage'), before + 120);
    });

    it('sends nothing the config forbids: no usage or error reports with DisableAutomaticSendTracing, error reports only for an opted-in user, Meetings app events only when the pool allows', async () => {
      const before = { usage: await count('telemetry_usage'), errors: await count('telemetry_errors'), census: await count('telemetry_census') };
      await set('Set-MmsTelemetryConfiguration', '-DisableAutomaticSendTracing', '$true');
      await set('Set-MmsUserTelemetry', 'amy.albers@contoso.com', '-ErrorReportingOptIn', '$true');
      const off = client();
      for (let i = 0; i < 5; i++) await off.usage({ ImSent: 1 });
      await off.error({ ErrorCode: 'E1' });
      await off.census({ DeviceModel: 'Laptop', OsName: 'Linux', OsVersion: '6.1', UserLanguage: 'en-US' });
      await off.flush();
      // Refused would mean the events went to the server: none did.
      assert.deepEqual([off.stats().accepted, off.stats().suppressed, off.stats().refused], [1, 6, {}]);
      assert.equal(off.stats().config?.Usage, false);
      assert.deepEqual({ usage: await count('telemetry_usage'), errors: await count('telemetry_errors') }, { usage: before.usage, errors: before.errors });

      await set('Set-MmsTelemetryConfiguration', '-DisableAutomaticSendTracing', '$false');
      const on = client();
      await on.error({ ErrorCode: 'E2', Log: `failed for ${AMY.trim()}` });
      const stranger = client({ userId: 'nobody@contoso.com' });
      await stranger.error({ ErrorCode: 'E3' });
      const meetingsApp = client({ appName: 'SkypeMeetingsApp', pool: 'pool01.contoso.com' });
      await meetingsApp.usage({ MeetingJoinAttempts: 1 });
      await meetingsApp.error({ ErrorCode: 'E4' });
      for (const c of [on, stranger, meetingsApp]) await c.flush();
      assert.deepEqual([on.stats().accepted, stranger.stats().suppressed, meetingsApp.stats().suppressed], [1, 1, 2]);
      for (const c of [on, stranger, meetingsApp]) assert.deepEqual(c.stats().refused, {});
      const errors = await rows('telemetry_errors');
      assert.equal(errors.length, before.errors + 1);
      assert.equal(errors.at(-1)!.error_code, 'E2');
      assert.ok(!JSON.stringify(errors).toLowerCase().includes('amy.albers'), 'the error report holds the user id');
      assert.equal(await count('telemetry_census'), before.census + 1);
    });

    it('counts what its bounded queue dropped and what the server refused for good, and never sends those again', async () => {
      const c = client({ maxQueue: 10 });
      for (let i = 0; i < 25; i++) await c.usage({ ImReceived: i });
      assert.deepEqual([c.stats().queued, c.stats().dropped], [10, 15]);
      await c.usage({ ImSent: -1 });
      assert.equal(c.stats().dropped, 16);
      const before = await count('telemetry_usage');
      await c.flush();
      assert.deepEqual([c.stats().accepted, c.stats().refused, c.stats().queued], [9, { Schema: 1 }, 0]);
      // The oldest were dropped: the ten kept are the newest.
      assert.deepEqual((await rows('telemetry_usage')).slice(before).map((r) => JSON.parse(String(r.counts)).ImReceived), [16, 17, 18, 19, 20, 21, 22, 23, 24]);
      const requests = c.stats().requests;
      await c.flush();
      assert.equal(c.stats().requests, requests, 'nothing left to send');
    });
  });

  describe(`${t.name}: telemetry SDK and the rate limit (the app on a socket, its clock set by the test)`, { skip: t.skip }, () => {
    let w: TelemetryWorld;
    let url = '';
    before(async () => {
      w = await telemetryWorld(t, { perDevicePerMinute: 5 });
      await w.app.listen({ host: '127.0.0.1', port: 0 });
      url = `http://127.0.0.1:${(w.app.server.address() as { port: number }).port}`;
    });
    after(async () => w?.close());

    it('sends again what the rate limit refused, after a backoff, and waits out a 429\'s Retry-After', async () => {
      const c = new TelemetryClient({ serverUrl: url, ingestionKey: w.keys.Contoso!, appName: 'SkypeDesktop', appVersion: '16.0', deviceId: usageEvent().DeviceId, flushIntervalMs: 0, now: () => w.clock });
      try {
        for (let i = 0; i < 8; i++) await c.usage({ ImSent: i });
        await c.flush();
        let s = c.stats();
        assert.deepEqual([s.accepted, s.queued, s.refused], [5, 3, {}], 'five within the allowance, three kept');
        assert.ok(s.backoffUntil! > w.clock && s.backoffUntil! - w.clock <= 1000, `a first backoff of at most 1 s: ${s.backoffUntil! - w.clock}`);
        // Within the backoff an explicit flush sends nothing.
        await c.flush();
        assert.equal(c.stats().requests, s.requests);

        w.clock = s.backoffUntil!;
        await c.flush();
        s = c.stats();
        assert.match(s.lastError ?? '', /429/);
        assert.ok(s.backoffUntil! - w.clock >= 60_000, `Retry-After 60 s honoured: ${s.backoffUntil! - w.clock}`);
        w.clock += 30_000;
        await c.flush();
        assert.equal(c.stats().requests, s.requests, 'nothing sent before Retry-After');

        w.clock = s.backoffUntil!;
        await c.flush();
        assert.deepEqual([c.stats().accepted, c.stats().queued, c.stats().refused], [8, 0, {}]);
        const stored = await w.fresh.db.kysely.selectFrom('telemetry_usage').select('counts').orderBy('id').execute();
        assert.deepEqual(stored.map((r) => JSON.parse(r.counts).ImSent), [0, 1, 2, 3, 4, 5, 6, 7]);
      } finally {
        await c.close(0);
      }
    });
  });
}

describe('telemetry SDK timers', () => {
  it('never keep a Node process alive: a client with events waiting for a retry and its flush interval lets the process end', { timeout: 60_000 }, async () => {
    // A process that records an event for a server that is not there, flushes (arming the retry timer) and returns.
    const script = `import { TelemetryClient } from './src/telemetry/sdk/index.ts';
      const c = new TelemetryClient({ serverUrl: 'http://127.0.0.1:${await freePort()}', ingestionKey: 'k', appName: 'A', appVersion: '1', retryBaseMs: 60000 });
      await c.usage({ ImSent: 1 });
      await c.flush();
      console.log(JSON.stringify({ queued: c.stats().queued, retries: c.stats().retries }));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out), { queued: 1, retries: 1 });
  });
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));
