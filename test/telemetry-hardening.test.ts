// Client telemetry, hardened after review (issue 11): other people's addresses in free text are scrubbed; deleted
// reports are overwritten on SQLite; allowances per client address and per ingestion key, not only per DeviceId; an
// opt-out that lands while a batch waits for the write lock is honoured; a user's hash never goes in a URL and
// lookups are limited; clear-text fields refuse addresses; a telemetry key needs 32 bytes of key material; and a
// changed key refuses ingestion instead of silently orphaning every opt-in. Both databases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { buildApi } from '../src/http/app.js';
import { sqlitePath } from '../src/store/index.js';
import { parseTelemetryKey, Pseudonyms, sha256Hex } from '../src/telemetry/index.js';
import { scrubIdentifiers, type Identified } from '../src/telemetry/privacy.js';
import { RateLimiter } from '../src/telemetry/rate-limit.js';
import { runMms } from './helpers/cli-run.js';
import { PG_URL, TEST_DATABASES } from './helpers/databases.js';
import { census, clientHash, deviceId, errorReport, NOW, outcomes, telemetryWorld, usage, type TelemetryWorld } from './helpers/telemetry-fixture.js';

describe('MMS_TELEMETRY_KEY parsing', () => {
  it('needs 32 bytes of key material: short hex is not read as base64, a word repeated is not a key', () => {
    assert.equal(parseTelemetryKey('ab12'.repeat(12)), undefined, '48 hex digits are 24 bytes (as base64 they would decode to 36)');
    assert.equal(parseTelemetryKey('0123456789abcdef'.repeat(3)), undefined);
    assert.equal(parseTelemetryKey('correcthorsebattery'.repeat(3)), undefined, 'a passphrase');
    assert.equal(parseTelemetryKey('b3'.repeat(32)), undefined, 'two characters repeated');
    assert.equal(parseTelemetryKey(randomBytes(32).toString('hex'))?.length, 32);
    assert.equal(parseTelemetryKey(randomBytes(32).toString('base64'))?.length, 32);
    assert.equal(parseTelemetryKey(randomBytes(48).toString('base64url'))?.length, 48);
    assert.throws(() => loadConfig({ MMS_TELEMETRY_KEY: 'ab12'.repeat(12) }), /^MmsError: MMS_TELEMETRY_KEY is not valid: .*openssl rand/);
  });
});

describe('the free-text scrubber', () => {
  const marked = (text: string) => scrubIdentifiers(text, (kind, value) => `[${kind} ${value}]`);
  it('finds an IPv6 address after a colon (key:value logs) and an IPv4-mapped one whole; a full stop or a time is not part of one', () => {
    assert.equal(marked('remote_ip:2001:db8:85a3::8a2e:370:7334'), 'remote_ip:[ip 2001:db8:85a3::8a2e:370:7334]');
    assert.equal(marked('addr:fe80::1'), 'addr:[ip fe80::1]');
    assert.equal(marked('peer ::ffff:192.168.1.20 gone'), 'peer [ip ::ffff:192.168.1.20] gone');
    assert.equal(marked('from fe80::1. Then 10.0.0.1.'), 'from [ip fe80::1]. Then [ip 10.0.0.1].');
    assert.equal(marked('at 12:00:05 mail Meg@Contoso.com.'), 'at 12:00:05 mail [address meg@contoso.com].');
  });
  it('takes time in proportion to the text (bounded repetitions), not its square: 8 times the text, well under 64 times the time', () => {
    // CPU time, not wall-clock time: on a busy machine a few milliseconds of wall time can hold a preemption of tens.
    // The best of several runs of each length; an unbounded local part made 16,000 digits and dots take ~200 ms, so
    // the square would put 64,000 characters in the seconds.
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const best = (text: string) => Math.min(...Array.from({ length: 7 }, () => {
      const t0 = cpuMs();
      marked(text);
      return cpuMs() - t0;
    }));
    for (const unit of ['9', '1.1.', 'a', 'a:']) {
      const short = best(unit.repeat(8_000 / unit.length) + '.1@');
      const long = best(unit.repeat(64_000 / unit.length) + '.1@');
      assert.ok(long < short * 24 + 10, `${JSON.stringify(unit)}: 8,000 characters ${short.toFixed(1)} ms of CPU, 64,000 ${long.toFixed(1)} ms`);
    }
  });
  it('finds the same with a memo of what it matched (one per batch) as without: the same text is the same thing wherever it is', () => {
    const seen = new Map<string, Identified>();
    const remembered = (text: string) => scrubIdentifiers(text, (kind, value) => `[${kind} ${value}]`, seen);
    const texts = [
      'INVITE sip:Peer1@Fabrikam.com via 192.0.2.7:5061 at 12:00:05', 'again sip:Peer1@Fabrikam.com via 192.0.2.7 and fe80::1.',
      'not an address: 999.1.1.1 nor 1.2.3.4.5, but 10.0.0.1 and ::ffff:192.168.1.20', 'SIPS:Meg@Contoso.com, meg@contoso.com, 999.1.1.1 again',
    ];
    for (const text of [...texts, ...texts]) assert.equal(remembered(text), marked(text), text);
    assert.deepEqual(seen.get('999.1.1.1'), null, 'a dotted number that is no address is remembered as nothing');
    assert.deepEqual(seen.get('SIPS:Meg@Contoso.com'), { kind: 'address', value: 'meg@contoso.com' });
  });
});

describe('the allowances\' buckets', () => {
  it('keep a key in one scope (a device of one tenant) apart from the same key in another, and stay capped across scopes', () => {
    let now = 0;
    const r = new RateLimiter(10, () => now, 4);
    assert.equal(r.takeUpTo('device', 8, now, 'tenant-a'), 8);
    assert.equal(r.takeUpTo('device', 8, now, 'tenant-b'), 8, 'another tenant\'s device of the same DeviceId has its own bucket');
    assert.equal(r.takeUpTo('device', 8, now, 'tenant-a'), 2);
    r.giveBack('device', 1, 'tenant-a');
    assert.equal(r.take('device', now, 'tenant-a'), true);
    assert.equal(r.take('device', now, 'tenant-a'), false);
    r.take('x');
    r.take('y');
    // Four buckets, none full: a fifth key drops the oldest (tenant-a's) and keeps the rest.
    assert.equal(r.take('z', now, 'tenant-c'), true);
    assert.equal(r.takeUpTo('device', 10, now, 'tenant-b'), 2, 'a younger bucket was kept');
    assert.equal(r.takeUpTo('device', 10, now, 'tenant-a'), 10, 'the oldest bucket was dropped: it starts full');
    // A full bucket (refilled) goes before an older one that is not.
    const r2 = new RateLimiter(10, () => now, 2);
    now = 0;
    r2.takeUpTo('old', 5, now, 's1');
    r2.take('refilled', now, 's2');
    now = 6_000; // one token back each: 'refilled' is full, 'old' is not
    r2.take('new', now, 's3');
    assert.equal(r2.takeUpTo('old', 10, now, 's1'), 6, 'the older bucket that is not full was kept');
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: telemetry hardening`, { skip: t.skip }, () => {
    let w: TelemetryWorld;
    before(async () => {
      w = await telemetryWorld(t);
      for (const u of ['fay@contoso.com', 'race@contoso.com', 'gone@contoso.com']) assert.equal((await w.mms('Set-MmsUserTelemetry', u, '-ErrorReportingOptIn', '$true')).code, 0);
    });
    after(async () => w?.close());
    const app = (telemetry: Record<string, number>, env: Record<string, string> = {}) =>
      buildApi({ db: w.fresh.db, config: loadConfig({ ...w.env, ...env }), cmdlets: CMDLETS, now: () => w.clock, telemetry });
    const pseudonyms = () => new Pseudonyms({ telemetryKey: loadConfig(w.env).telemetryKey, dialect: t.name, sqliteFile: t.name === 'sqlite' ? sqlitePath(w.fresh.url) : undefined });

    it('scrubs every e-mail address, SIP URI and IP address in free text, other people\'s too', async () => {
      const text = 'INVITE sip:Zoe.Other@fabrikam.com from zoe.other@fabrikam.com and bob@tailspin.example via 198.51.100.23:5061, [2001:db8:aaaa:bbbb::17]:443; at 12:00:05 own fay@contoso.com';
      const r = await w.post('error', [errorReport('fay@contoso.com', undefined, { ErrorCode: 'SCRUB', Log: text, DeviceConfiguration: { Peer: 'bob@tailspin.example', Gateway: '192.0.2.200' }, ConversationState: 'with zoe.other@fabrikam.com' })]);
      assert.deepEqual(outcomes(r.body), ['Accepted']);
      const row = await w.fresh.db.kysely.selectFrom('telemetry_errors').select('details').where('error_code', '=', 'SCRUB').executeTakeFirstOrThrow();
      const lower = row.details.toLowerCase();
      for (const leak of ['zoe.other', 'fabrikam.com', 'bob@', 'tailspin', '198.51.100.23', '192.0.2.200', '2001:db8:aaaa:bbbb::17', 'fay@']) assert.ok(!lower.includes(leak), `stored: ${leak} in ${row.details}`);
      const details = JSON.parse(row.details) as { Log: string; DeviceConfiguration: { Peer: string; Gateway: string }; ConversationState: string };
      assert.match(details.Log, /198\.51\.100\.0\/24:5061/);
      assert.match(details.Log, /2001:db8:aaaa::\/48/);
      assert.match(details.Log, /at 12:00:05 own \[UserId\]$/, 'a time is not an address; the reporter\'s own id is [UserId]');
      // The same address is the same keyed token (a log stays readable), whichever way it was written.
      const tokens = details.Log.match(/\[address [0-9a-f]{16}\]/g)!;
      assert.equal(tokens.length, 3);
      assert.equal(tokens[0], tokens[1], 'sip:Zoe.Other@… and zoe.other@… are one address');
      assert.notEqual(tokens[0], tokens[2]);
      assert.equal(details.DeviceConfiguration.Peer, tokens[2]);
      assert.equal(details.DeviceConfiguration.Gateway, '192.0.2.0/24');
      assert.equal(details.ConversationState, `with ${tokens[0]}`);
    });

    it('stores awkward text byte for byte in a batch of many rows: quotes, backslashes, braces, commas, the word NULL, line breaks, emoji', async () => {
      // On PostgreSQL a batch goes in as one array per column (unnest): each of these is special in an array literal.
      const awkward = ['say "hi"', 'back\\slash \\"', '{a,b}', 'NULL', 'null', '', 'two\nlines\r\n', 'tab\there', 'Zoë 😀 日本', "it's", ' lead and trail '];
      const reports = awkward.map((text, i) => errorReport('fay@contoso.com', undefined, { ErrorCode: `AWK${i}`, Log: text }));
      const models = awkward.filter((text) => text.length > 0 && !/[\r\n\t]/.test(text));
      const devices = models.map((model) => census('a@contoso.com', undefined, { DeviceModel: model }));
      assert.deepEqual(outcomes((await w.post('error', reports)).body), awkward.map(() => 'Accepted'));
      assert.deepEqual(outcomes((await w.post('census', devices)).body), models.map(() => 'Accepted'));
      const stored = await w.fresh.db.kysely.selectFrom('telemetry_errors').select(['error_code', 'details', 'identifiers_kept']).where('error_code', 'like', 'AWK%').execute();
      const logs = new Map(stored.map((r) => [r.error_code, (JSON.parse(r.details) as { Log: string }).Log]));
      assert.deepEqual(awkward.map((_, i) => logs.get(`AWK${i}`)), awkward);
      for (const r of stored) assert.equal(r.identifiers_kept, 0);
      const kept = await w.fresh.db.kysely.selectFrom('telemetry_census').select('device_model').where('device_model', 'in', models).execute();
      assert.deepEqual(kept.map((r) => r.device_model).sort(), [...models].sort());
    });

    it('refuses AppName, DeviceModel, FederationPartner values that carry an e-mail address, SIP URI or IP address', async () => {
      const c = await w.post('census', [census('a@contoso.com', undefined, { AppName: 'alice@contoso.com' }), census('a@contoso.com', undefined, { DeviceModel: '10.1.2.3' }), census('a@contoso.com', undefined, { OsName: 'sip:alice' }), census('a@contoso.com')]);
      assert.deepEqual(outcomes(c.body), ['Refused:Schema', 'Refused:Schema', 'Refused:Schema', 'Accepted']);
      assert.match(c.body.Results[0].Message, /^AppName may not hold an e-mail address, SIP URI or IP address/);
      const u = await w.post('usage', [usage(undefined, { FederationPartner: '203.0.113.5' }), usage(undefined, { FederationPartner: 'fabrikam.com' })]);
      assert.deepEqual(outcomes(u.body), ['Refused:Schema', 'Accepted']);
      // Versions are kept in clear too: an address is refused there, a four-part version is a version.
      const v = await w.post('census', [census('a@contoso.com', undefined, { OsVersion: 'meganb@contoso.com' }), census('a@contoso.com', undefined, { AppVersion: 'sip:meganb' }), census('a@contoso.com', undefined, { AppVersion: '16.0.4.12' })]);
      assert.deepEqual(outcomes(v.body), ['Refused:Schema', 'Refused:Schema', 'Accepted']);
      assert.match(v.body.Results[0].Message, /^OsVersion may not hold an e-mail address or SIP URI/);
    });

    it('limits events per client address and per ingestion key, so that a new DeviceId per event does not get round it', async () => {
      const limited = await app({ perIpPerMinute: 5, perKeyPerMinute: 8 });
      try {
        const send = async (ip: string, n: number) => {
          const r = await limited.inject({ method: 'POST', url: '/telemetry/v1/usage', remoteAddress: ip, headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` }, payload: { Events: Array.from({ length: n }, () => usage(deviceId())) } });
          return { status: r.statusCode, body: r.json() };
        };
        const a = await send('198.51.100.1', 7);
        assert.deepEqual(outcomes(a.body), [...Array(5).fill('Accepted'), 'Refused:RateLimited', 'Refused:RateLimited']);
        assert.match(a.body.Results[5].Message, /client address/);
        const again = await send('198.51.100.1', 1);
        assert.equal(again.status, 429);
        const b = await send('198.51.100.2', 4);
        assert.deepEqual(outcomes(b.body), ['Accepted', 'Accepted', 'Accepted', 'Refused:RateLimited']);
        assert.match(b.body.Results[3].Message, /ingestion key/);
        // IPv6 clients share their /64's allowance: a new address from the same /64 per request does not get round it.
        const limitedV6 = await app({ perIpPerMinute: 3 });
        try {
          const v6 = async (ip: string) => outcomes((await limitedV6.inject({ method: 'POST', url: '/telemetry/v1/usage', remoteAddress: ip, headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` }, payload: { Events: [usage(deviceId()), usage(deviceId())] } })).json());
          assert.deepEqual(await v6('2001:db8:1:2::a'), ['Accepted', 'Accepted']);
          assert.deepEqual(await v6('2001:db8:1:2:ffff::b'), ['Accepted', 'Refused:RateLimited']);
          assert.deepEqual(await v6('2001:db8:1:3::a'), ['Accepted', 'Accepted'], 'another /64 has its own');
        } finally {
          await limitedV6.close();
        }
        // Another tenant's key has its own allowance.
        const f = await limited.inject({ method: 'POST', url: '/telemetry/v1/usage', remoteAddress: '198.51.100.3', headers: { authorization: `MmsTelemetry ${w.keys.Fabrikam}` }, payload: { Events: [usage()] } });
        assert.deepEqual(outcomes(f.json()), ['Accepted']);
      } finally {
        await limited.close();
      }
    });

    it('honours an opt-out that commits while the batch waits: the opt-in is read in the batch\'s own write transaction', { timeout: 60_000 }, async () => {
      const tenant = await resolveTenant(w.fresh.db, 'Contoso');
      const key = pseudonyms().optInKey(tenant.id, sha256Hex('race@contoso.com'));
      // Another connection opts the user out and has not committed yet.
      let commit: () => Promise<void>;
      if (t.name === 'sqlite') {
        const h = new SQLite(sqlitePath(w.fresh.url));
        h.prepare('begin immediate').run();
        h.prepare('update telemetry_opt_ins set error_reporting_opt_in = 0 where tenant_id = ? and user_key = ?').run(tenant.id, key);
        commit = async () => {
          h.prepare('commit').run();
          h.close();
        };
      } else {
        const c = new pg.Client({ connectionString: w.fresh.url });
        await c.connect();
        await c.query('begin');
        await c.query('update telemetry_opt_ins set error_reporting_opt_in = 0 where tenant_id = $1 and user_key = $2', [tenant.id, key]);
        commit = async () => {
          await c.query('commit');
          await c.end();
        };
      }
      let settled = false;
      const pending = w.post('error', [errorReport('race@contoso.com', undefined, { ErrorCode: 'RACE' })]).finally(() => (settled = true));
      // Until the batch has read what it reads before the lock (on PostgreSQL: until it waits for the row lock).
      if (t.name === 'postgres') {
        const probe = new pg.Client({ connectionString: PG_URL });
        await probe.connect();
        try {
          while (!settled && !(await probe.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%telemetry_opt_ins%for share%'`)).rowCount) await new Promise((r) => setTimeout(r, 5));
        } finally {
          await probe.end();
        }
      } else {
        for (let i = 0; i < 200 && !settled; i++) await new Promise((r) => setImmediate(r));
      }
      await commit!();
      const r = await pending;
      assert.deepEqual(outcomes(r.body), ['Refused:ErrorReportingOptIn']);
      assert.equal((await w.fresh.db.kysely.selectFrom('telemetry_errors').select('id').where('error_code', '=', 'RACE').execute()).length, 0);
    });

    it('takes a user\'s hash in the POST body only (a URL lands in proxy logs), and limits opt-in lookups per client address', async () => {
      const hash = clientHash('fay@contoso.com');
      const get = await w.app.inject({ method: 'GET', url: '/telemetry/v1/config', query: { UserId: hash }, headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` } });
      assert.equal(get.statusCode, 400);
      assert.match(get.json().message, /UserId does not go in the URL.*POST \/telemetry\/v1\/config/);
      const ask = (ip: string) => w.app.inject({ method: 'POST', url: '/telemetry/v1/config', remoteAddress: ip, headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` }, payload: { UserId: hash } });
      assert.equal((await ask('203.0.113.9')).json().ErrorReporting, true);
      let first429 = -1;
      for (let i = 1; i <= 601 && first429 < 0; i++) if ((await ask('203.0.113.9')).statusCode === 429) first429 = i;
      assert.equal(first429, 600, 'the 601st lookup in a minute from one address is refused');
      assert.equal((await ask('203.0.113.10')).statusCode, 200, 'another address is not');
      const noUser = await w.app.inject({ method: 'GET', url: '/telemetry/v1/config', remoteAddress: '203.0.113.9', headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` } });
      assert.equal(noUser.statusCode, 200, 'a lookup without a user is not limited');
    });

    it('refuses ingestion with 503 and the fix when the telemetry key is not the one the stored pseudonyms were made with', async () => {
      assert.deepEqual(outcomes((await w.post('census', [census('k@contoso.com')])).body), ['Accepted']);
      const other = await app({}, { MMS_TELEMETRY_KEY: randomBytes(32).toString('base64') });
      try {
        const r = await other.inject({ method: 'POST', url: '/telemetry/v1/census', headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` }, payload: { Events: [census('k@contoso.com')] } });
        assert.equal(r.statusCode, 503);
        assert.match(r.json().message, /^MMS_TELEMETRY_KEY .* is not the key this database's telemetry pseudonyms and opt-ins were made with .*: set MMS_TELEMETRY_KEY back to that key/);
        const c = await other.inject({ method: 'POST', url: '/telemetry/v1/config', headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` }, payload: { UserId: clientHash('fay@contoso.com') } });
        assert.equal(c.statusCode, 503, 'an opt-in looked up under another key would read as "not opted in"');
      } finally {
        await other.close();
      }
      // The user cmdlets too: an opt-in written under another key would be one no client can ever find.
      const otherEnv = { ...w.env, MMS_TELEMETRY_KEY: randomBytes(32).toString('base64') };
      for (const argv of [['Set-MmsUserTelemetry', 'k@contoso.com', '-ErrorReportingOptIn', '$true'], ['Get-MmsUserTelemetry', 'fay@contoso.com']]) {
        const r = await runMms(otherEnv, () => w.clock, argv);
        assert.notEqual(r.code, 0, `${argv[0]} under another key: ${r.out}`);
        assert.match(r.err, /MMS_TELEMETRY_KEY .* is not the key this database's telemetry pseudonyms and opt-ins were made with/);
      }
      assert.equal((await w.mms('Get-MmsUserTelemetry', 'k@contoso.com')).code, 0, 'under the right key the cmdlets work');
      assert.deepEqual(outcomes((await w.post('census', [census('k@contoso.com')])).body), ['Accepted'], 'the right key still works');
      const stored = await sql<{ fingerprint: string }>`select fingerprint from telemetry_key_check`.execute(w.fresh.db.kysely);
      assert.equal(stored.rows.length, 1);
      assert.equal(stored.rows[0]!.fingerprint, pseudonyms().fingerprint());
    });

    if (t.name === 'sqlite') {
      it('overwrites deleted error reports: after an opt-out their text is nowhere in the SQLite file', async () => {
        const marker = `MARKER-${randomUUID()}`;
        assert.deepEqual(outcomes((await w.post('error', [errorReport('gone@contoso.com', undefined, { Message: `${marker} ${'x'.repeat(200)}` })])).body), ['Accepted']);
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(w.fresh.db.kysely);
        const file = sqlitePath(w.fresh.url);
        assert.ok(fs.readFileSync(file).includes(marker), 'the scan finds the report while it is stored');
        const out = await w.json('Set-MmsUserTelemetry', 'gone@contoso.com', '-ErrorReportingOptIn', '$false');
        assert.equal(out.ErrorReportsDeleted, 1);
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(w.fresh.db.kysely);
        assert.ok(!fs.readFileSync(file).includes(marker), 'the deleted report\'s text is still in the file');
      });
    }
  });
}
