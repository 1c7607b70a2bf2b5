// Client telemetry privacy (issue 11 §2, §6): after ingesting events that carry known user ids, SIP URIs and IP
// addresses, none of them — nor their plain SHA-256 — is anywhere in the database (the SQLite file's bytes after a
// checkpoint; a pg_dump of the test schema) or in the service log. Census and error pseudonyms cannot be joined, a
// new epoch makes new pseudonyms, opting out deletes the user's error reports, and retention prunes. Both databases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { resolveTenant } from '../src/directory/index.js';
import { buildApi } from '../src/http/app.js';
import { MigrationWorker } from '../src/migration/index.js';
import { sqlitePath } from '../src/store/index.js';
import { pruneTelemetry, sha256Hex, telemetryKeyFileFor } from '../src/telemetry/index.js';
import { PG_URL, TEST_DATABASES } from './helpers/databases.js';
import { census, DAY, deviceId, errorReport, NOW, outcomes, telemetryWorld, usage, type TelemetryWorld } from './helpers/telemetry-fixture.js';

const USERS = ['amos.marble@contoso.com', 'nina.ng@contoso.com'];
const SIP = ['sip:amos.marble@contoso.com', 'sip:nina.ng@contoso.com'];
const IPS = ['203.0.113.77', '2001:db8:85a3:1234:8a2e:370:7334:abcd'];
const CENSUS_ONLY = 'census.only@contoso.com';
const POOL = 'pool01.contoso.com';

/** Everything the database holds, as text: the SQLite file (and any WAL left) after a checkpoint, or a pg_dump of the schema. */
async function databaseText(w: TelemetryWorld, dialect: 'sqlite' | 'postgres'): Promise<string> {
  if (dialect === 'sqlite') {
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(w.fresh.db.kysely);
    const file = sqlitePath(w.fresh.url);
    return [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString('latin1')).join('\n');
  }
  const schema = /search_path=(\w+)/.exec(decodeURIComponent(w.fresh.url))![1]!;
  try {
    return execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', schema, '--no-owner'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  } catch {
    // No usable pg_dump (missing, or older than the server): every row of every table in the schema, as JSON.
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      const tables = (await c.query('select table_name from information_schema.tables where table_schema = $1', [schema])).rows.map((r) => r.table_name as string);
      const parts = [];
      for (const t of tables) parts.push(JSON.stringify((await c.query(`select * from "${schema}"."${t}"`)).rows));
      return parts.join('\n');
    } finally {
      await c.end();
    }
  }
}

/** Each identifier in the forms it could leak in: as sent, normalized, and the plain SHA-256 (hex) of both. */
function needles(): string[] {
  const base = [...USERS, ...SIP, ...SIP.map((s) => s.slice(4)), ...IPS, CENSUS_ONLY, 'Amos.Marble@Contoso.com'];
  return [...new Set(base.flatMap((v) => [v, v.toLowerCase(), sha256Hex(v), sha256Hex(v.toLowerCase()), sha256Hex(v).toUpperCase()]))];
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: telemetry privacy`, { skip: t.skip }, () => {
    let w: TelemetryWorld;
    const devices = USERS.map(() => deviceId());
    before(async () => {
      w = await telemetryWorld(t);
      for (const u of USERS) assert.equal((await w.mms('Set-MmsUserTelemetry', u, '-ErrorReportingOptIn', '$true')).code, 0);
      assert.equal((await w.mms('Set-CsWebServiceConfiguration', POOL, '-MeetingUxEnableTelemetry', '$true')).code, 0);
    });
    after(async () => w?.close());

    it('stores no user id, SIP URI or IP address, nor their plain SHA-256, in the database or the log', async () => {
      const c = await w.post('census', [...USERS.map((u, i) => census(u, devices[i])), census(CENSUS_ONLY), census('Amos.Marble@Contoso.com', devices[0])]);
      assert.deepEqual(outcomes(c.body), ['Accepted', 'Accepted', 'Accepted', 'Accepted']);
      assert.deepEqual(outcomes((await w.post('usage', devices.map((d) => usage(d)))).body), ['Accepted', 'Accepted']);
      const errors = USERS.map((u, i) => errorReport(i === 0 ? 'Amos.Marble@Contoso.com' : u, devices[i], {
        SipUri: SIP[i], IpAddress: IPS[i],
        Log: `sign-in of ${u} (${SIP[i]}) from ${IPS[i]} failed`, Exception: `SipException: ${SIP[i]!.slice(4)} unreachable at ${IPS[i]}`,
        DeviceConfiguration: { LastAddress: IPS[i]!, Account: u }, NetworkQuality: { Jitter: 12 },
      }));
      const meetingApp = errorReport(USERS[1], undefined, { AppName: 'SkypeMeetingsApp', Pool: POOL, SipUri: SIP[1], IpAddress: IPS[0], Message: `join failed for ${USERS[1]}` });
      // The Meetings app has no user opt-in: its reports may not name a user (refused), and without one they are kept.
      const meetingAppAnonymous = errorReport(undefined, undefined, { AppName: 'SkypeMeetingsApp', Pool: POOL, IpAddress: IPS[0], Message: 'join failed' });
      const e = await w.post('error', [...errors, meetingApp, meetingAppAnonymous]);
      assert.deepEqual(outcomes(e.body), ['Accepted', 'Accepted', 'Refused:ErrorReportingOptIn', 'Accepted']);

      const db = await databaseText(w, t.name);
      const log = w.log();
      // The scan works: what is stored instead is there.
      assert.ok(db.includes('203.0.113.0/24'), 'the truncated IPv4 address is stored');
      assert.ok(db.includes('2001:db8:85a3::/48'), 'the truncated IPv6 address is stored');
      assert.ok(db.includes('AdDO8hsJqilU93hQHC3OZaPR2saEA=='), 'the conversation thread id is stored');
      assert.ok(log.includes('/telemetry/v1/error'), 'the log has the requests');
      const lowerDb = db.toLowerCase();
      const lowerLog = log.toLowerCase();
      for (const n of needles()) {
        assert.ok(!lowerDb.includes(n.toLowerCase()), `the database holds ${n}`);
        assert.ok(!lowerLog.includes(n.toLowerCase()), `the log holds ${n}`);
      }
      for (const d of devices) assert.ok(!lowerDb.includes(d.toLowerCase()), `the database holds the DeviceId ${d}`);
    });

    it('makes census and error pseudonyms that cannot be joined: the same user and device differ between them', async () => {
      const k = w.fresh.db.kysely;
      const censusRows = await k.selectFrom('telemetry_census').select(['user_hash', 'device_hash']).execute();
      const errorRows = await k.selectFrom('telemetry_errors').select(['user_hash', 'device_hash']).execute();
      const usageRows = await k.selectFrom('telemetry_usage').select(['device_hash']).execute();
      assert.ok(censusRows.length >= 3 && errorRows.length >= 2);
      const inCensus = new Set(censusRows.flatMap((r) => [r.user_hash, r.device_hash]));
      for (const r of errorRows) {
        assert.ok(!inCensus.has(r.user_hash ?? ''), 'an error user pseudonym equals a census one');
        assert.ok(!inCensus.has(r.device_hash), 'an error device pseudonym equals a census one');
      }
      for (const r of usageRows) assert.ok(!inCensus.has(r.device_hash), 'a usage device pseudonym equals a census one');
      // The same user's census rows (any case, any device) share one pseudonym: reports can count distinct users.
      const amos = censusRows.filter((_r, i) => i === 0 || i === 3).map((r) => r.user_hash);
      assert.equal(new Set(amos).size, 1);
    });

    it('keeps the SIP URI and the whole IP address only when the tenant sets KeepErrorReportIdentifiers; the user id is hashed still', async () => {
      assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-KeepErrorReportIdentifiers', '$true')).code, 0);
      try {
        const r = await w.post('error', [errorReport('nina.ng@contoso.com', undefined, { SipUri: 'sip:Nina.Ng@contoso.com', IpAddress: '198.51.100.9', ErrorCode: 'KEPT' })]);
        assert.deepEqual(outcomes(r.body), ['Accepted']);
        const row = await w.fresh.db.kysely.selectFrom('telemetry_errors').selectAll().where('error_code', '=', 'KEPT').executeTakeFirstOrThrow();
        assert.equal(row.sip_uri, 'sip:nina.ng@contoso.com');
        assert.equal(row.ip_address, '198.51.100.9');
        assert.equal(row.identifiers_kept, 1);
        assert.match(row.user_hash ?? '', /^[0-9a-f]{64}$/);
        assert.notEqual(row.user_hash, sha256Hex('nina.ng@contoso.com'));
      } finally {
        assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-KeepErrorReportIdentifiers', '$false')).code, 0);
      }
    });

    it('-RotateKey starts a new epoch: the same user is a new pseudonym, old rows keep theirs, opt-ins stay', async () => {
      const k = w.fresh.db.kysely;
      const user = 'rot@contoso.com';
      assert.equal((await w.mms('Set-MmsUserTelemetry', user, '-ErrorReportingOptIn', '$true')).code, 0);
      const d = deviceId();
      assert.deepEqual(outcomes((await w.post('census', [census(user, d, { AppName: 'RotApp' })])).body), ['Accepted']);
      assert.deepEqual(outcomes((await w.post('error', [errorReport(user, d, { ErrorCode: 'ROT' })])).body), ['Accepted']);
      const r = await w.json('Set-MmsTelemetryConfiguration', '-RotateKey');
      assert.equal(r.KeyEpoch, 2);
      assert.deepEqual(outcomes((await w.post('census', [census(user, d, { AppName: 'RotApp' })])).body), ['Accepted']);
      assert.deepEqual(outcomes((await w.post('error', [errorReport(user, d, { ErrorCode: 'ROT' })])).body), ['Accepted'], 'the opt-in outlives the rotation');
      const rows = await k.selectFrom('telemetry_census').select(['epoch', 'user_hash', 'device_hash']).where('app_name', '=', 'RotApp').orderBy('id').execute();
      assert.deepEqual(rows.map((x) => x.epoch), [1, 2]);
      assert.notEqual(rows[0]!.user_hash, rows[1]!.user_hash);
      assert.notEqual(rows[0]!.device_hash, rows[1]!.device_hash);

      // Opting out deletes the user's error reports of both epochs, and no one else's.
      const others = await k.selectFrom('telemetry_errors').select('id').where('error_code', '!=', 'ROT').execute();
      const out = await w.json('Set-MmsUserTelemetry', user, '-ErrorReportingOptIn', '$false');
      assert.equal(out.ErrorReportsDeleted, 2);
      assert.equal((await k.selectFrom('telemetry_errors').select('id').where('error_code', '=', 'ROT').execute()).length, 0);
      assert.equal((await k.selectFrom('telemetry_errors').select('id').where('error_code', '!=', 'ROT').execute()).length, others.length);
      const audit = (await w.json('Get-MmsAuditLog')) as Array<Record<string, unknown>>;
      const row = audit.filter((a) => a.Cmdlet === 'Set-MmsUserTelemetry').at(-1)!;
      assert.match(JSON.stringify(row), /ErrorReportsDeleted/);
      assert.ok(!JSON.stringify(audit).includes(user));
    });

    it('prunes census and usage after RetentionDays and error reports after ErrorReportRetentionDays, per tenant', async () => {
      const k = w.fresh.db.kysely;
      const fabrikam = await resolveTenant(w.fresh.db, 'Fabrikam');
      const env = ['-Tenant', 'Fabrikam'];
      assert.equal((await w.mms('Set-MmsTelemetryConfiguration', '-RetentionDays', '10', '-ErrorReportRetentionDays', '3', ...env)).code, 0);
      assert.equal((await w.mms('Set-MmsUserTelemetry', 'old@fabrikam.com', '-ErrorReportingOptIn', '$true', ...env)).code, 0);
      for (const age of [20, 5, 0]) {
        w.clock = NOW - age * DAY;
        const tag = `AGE${age}`;
        assert.deepEqual(outcomes((await w.post('census', [census('old@fabrikam.com', undefined, { AppName: tag })], w.keys.Fabrikam)).body), ['Accepted']);
        assert.deepEqual(outcomes((await w.post('usage', [usage(undefined, { AppName: tag })], w.keys.Fabrikam)).body), ['Accepted']);
        assert.deepEqual(outcomes((await w.post('error', [errorReport('old@fabrikam.com', undefined, { AppName: tag })], w.keys.Fabrikam)).body), ['Accepted']);
      }
      w.clock = NOW;
      const contosoBefore = await k.selectFrom('telemetry_census').select('id').where('tenant_id', '!=', fabrikam.id).execute();
      const pruned = await pruneTelemetry(w.fresh.db, NOW);
      assert.deepEqual(pruned, { census: 1, usage: 1, errors: 2 });
      const left = async (table: 'telemetry_census' | 'telemetry_usage' | 'telemetry_errors') =>
        (await k.selectFrom(table).select('app_name').where('tenant_id', '=', fabrikam.id).orderBy('id').execute()).map((r) => r.app_name);
      assert.deepEqual(await left('telemetry_census'), ['AGE5', 'AGE0']);
      assert.deepEqual(await left('telemetry_usage'), ['AGE5', 'AGE0']);
      assert.deepEqual(await left('telemetry_errors'), ['AGE0']);
      assert.equal((await k.selectFrom('telemetry_census').select('id').where('tenant_id', '!=', fabrikam.id).execute()).length, contosoBefore.length);
    });

    it('is pruned by the worker\'s periodic housekeeping as well', { timeout: 30_000 }, async () => {
      const k = w.fresh.db.kysely;
      const fabrikam = await resolveTenant(w.fresh.db, 'Fabrikam');
      let done!: () => void;
      const pruned = new Promise<void>((resolve) => (done = resolve));
      const log = (_o: object, msg?: string) => {
        if (msg === 'pruned client telemetry past its retention') done();
      };
      const worker = new MigrationWorker({ db: w.fresh.db, now: () => NOW + 11 * DAY, logger: { info: log, warn: log, error: log }, pollMs: 50 });
      const running = worker.start();
      try {
        await pruned;
      } finally {
        await worker.stop();
        await running;
      }
      const left = await k.selectFrom('telemetry_census').select('app_name').where('tenant_id', '=', fabrikam.id).execute();
      assert.deepEqual(left.map((r) => r.app_name), [], 'eleven days on, Fabrikam\'s 10-day census is gone');
    });

    if (t.name === 'sqlite') {
      it('without MMS_TELEMETRY_KEY keeps a generated key beside the SQLite database, readable by the service user only', () => {
        const file = telemetryKeyFileFor(sqlitePath(w.fresh.url));
        assert.ok(fs.existsSync(file));
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      });
    } else {
      it('without MMS_TELEMETRY_KEY refuses ingestion on PostgreSQL with 503 and the fix', async () => {
        const app = await buildApi({ db: w.fresh.db, config: loadConfig({ MMS_DATABASE_URL: w.fresh.url }), cmdlets: CMDLETS, now: () => NOW });
        try {
          const r = await app.inject({ method: 'POST', url: '/telemetry/v1/census', headers: { authorization: `MmsTelemetry ${w.keys.Contoso}` }, payload: { Events: [census('x@contoso.com')] } });
          assert.equal(r.statusCode, 503);
          assert.match(r.json().message, /MMS_TELEMETRY_KEY/);
        } finally {
          await app.close();
        }
      });
    }
  });
}
