// The telemetry ingestion threads (issue 11 §7, MMS_TELEMETRY_THREADS): a batch prepared in a thread is stored and
// answered exactly as one prepared on the main thread; a thread that dies fails only the batch it held, with a 503
// that says to send it again, and the next batch gets a new thread (batches that come while a thread loads are
// prepared on the main thread, so none waits for it); closing the app — and stopping the built
// `mms serve` — ends every thread. Real apps on both databases; the serve test runs the build (dist/cli/ingest-thread.js).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { loadConfig } from '../src/config.js';
import { buildApi } from '../src/http/app.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { census, deviceId, errorReport, NOW, outcomes, telemetryWorld, usage, type TelemetryWorld } from './helpers/telemetry-fixture.js';
import { freePort, servedTelemetry } from './helpers/telemetry-serve.js';
import { startWorker, stopWorker } from './helpers/worker-process.js';

const TABLES = ['telemetry_census', 'telemetry_usage', 'telemetry_errors'] as const;
const POOL = 'pool01.contoso.com';

/** An app on the world's database with `threads` ingestion threads, logging into a buffer. */
async function appWith(w: TelemetryWorld, threads: number): Promise<{ app: FastifyInstance; log: () => string }> {
  let text = '';
  const sink = new Writable({ write(c, _e, done) { text += String(c); done(); } });
  const app = await buildApi({ db: w.fresh.db, config: loadConfig({ ...w.env, MMS_TELEMETRY_THREADS: String(threads) }), cmdlets: CMDLETS, now: () => NOW, loggerInstance: pino({ level: 'info' }, sink) as never });
  return { app, log: () => text };
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: telemetry ingestion threads`, { skip: t.skip }, () => {
    let w: TelemetryWorld;
    before(async () => {
      w = await telemetryWorld(t);
      assert.equal((await w.mms('Set-MmsUserTelemetry', 'amy@contoso.com', '-ErrorReportingOptIn', '$true')).code, 0);
      assert.equal((await w.mms('Set-CsWebServiceConfiguration', '-Identity', `Service:WebServer:${POOL}`, '-MeetingUxEnableTelemetry', '$true')).code, 0);
    });
    after(async () => w?.close());

    const post = (app: FastifyInstance, kind: string, payload: unknown) => app.inject({ method: 'POST', url: `/telemetry/v1/${kind}`, headers: { authorization: `MmsTelemetry ${w.keys.Contoso}`, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
    /** Every telemetry row after `since` (the largest ids before), without its id, per table. */
    const rowsAfter = async (since: Record<string, number>) => Object.fromEntries(await Promise.all(TABLES.map(async (table) => {
      const rows = await w.fresh.db.kysely.selectFrom(table).selectAll().where('id', '>', since[table]!).orderBy('id').execute();
      return [table, rows.map(({ id: _id, ...rest }) => rest)] as const;
    })));
    const lastIds = async () => Object.fromEntries(await Promise.all(TABLES.map(async (table) => {
      const r = await w.fresh.db.kysely.selectFrom(table).select((e) => e.fn.max('id').as('id')).executeTakeFirst();
      return [table, Number(r?.id ?? 0)] as const;
    })));

    it('stores the same rows and gives the same answers with no ingestion thread (0) as with one (1), refusals and bad bodies included', async () => {
      const amyDevice = deviceId();
      const batches: Array<[string, unknown]> = [
        ['census', { Events: [census('amy@contoso.com'), { ...census('x@contoso.com'), UserId: 'x@contoso.com' }, census('bob@contoso.com', undefined, { Time: '2026-11-29T10:00:00Z' }), 'text'] }],
        ['usage', { Events: [usage(), usage(undefined, { UserId: 'amy@contoso.com' }), usage(undefined, { AppName: 'SkypeMeetingsApp', Pool: POOL }), usage(undefined, { AppName: 'JoinLauncher' }), usage(undefined, { FeaturesUsed: { 'Get-CsOnlineUser': 2 } })] }],
        ['error', { Events: [
          errorReport('amy@contoso.com', amyDevice, { SipUri: 'sip:amy@contoso.com', IpAddress: '192.0.2.15', Message: 'Call to peer@fabrikam.com failed', Log: 'INVITE sip:peer@fabrikam.com via 198.51.100.7:5061 from amy@contoso.com\nremote_ip:2001:db8::1', NetworkQuality: { RttMs: 40, Peer: 'carol@fabrikam.com' } }),
          errorReport('nobody@contoso.com'),
          errorReport('amy@contoso.com', undefined, { IpAddress: 'not-an-ip' }),
          errorReport(undefined, undefined, { AppName: 'JoinLauncher', Pool: POOL, Log: 'joined from 203.0.113.9' }),
          errorReport('amy@contoso.com', undefined, { AppName: 'JoinLauncher', Pool: POOL }),
        ] }],
        ['census', 'not json'],
        ['census', '\ufeff{"Events":[]}'],
        ['usage', { Events: [usage()], Extra: 1 }],
        ['usage', { Events: Array.from({ length: 501 }, () => ({})) }],
        ['usage', '{"Events":[{"__proto__":{"x":1}}]}'],
        ['usage', '[1]'],
        ['usage', '{"Events":[{"\\u005f_proto__":{"x":1}}]}'],
        ['usage', '{"Events":[{"constructor":{"prototype":{"x":1}}}]}'],
      ];
      const answers: string[][] = [];
      const stored: unknown[] = [];
      for (const threads of [0, 1]) {
        const { app } = await appWith(w, threads);
        try {
          // The first batch starts the thread (and is prepared on this thread while it loads); the rest go to it.
          assert.equal((await post(app, 'usage', { Events: [usage()] })).statusCode, 200);
          await app.telemetryPool.ready();
          const since = await lastIds();
          const got: string[] = [];
          for (const [kind, body] of batches) {
            const r = await post(app, kind, body);
            got.push(`${r.statusCode} ${r.body}`);
          }
          answers.push(got);
          stored.push(await rowsAfter(since));
          assert.equal(app.telemetryPool.threads.length, threads, 'the pool ran with the threads it was given');
        } finally {
          await app.close();
        }
      }
      assert.deepEqual(answers[1], answers[0]);
      assert.deepEqual(stored[1], stored[0]);
      // What the two agree on is the ingestion's own behaviour, not an accident of both failing.
      const [c, u, e, notJson, empty, extra, many, proto, array, escapedProto, ctor] = answers[0]!.map((a) => ({ status: Number(a.slice(0, 3)), body: JSON.parse(a.slice(4)) }));
      assert.deepEqual(outcomes(c!.body), ['Accepted', 'Refused:Schema', 'Accepted', 'Refused:Schema']);
      assert.deepEqual(outcomes(u!.body), ['Accepted', 'Refused:UserIdentifierNotAllowed', 'Accepted', 'Refused:Schema', 'Accepted']);
      assert.deepEqual(outcomes(e!.body), ['Accepted', 'Refused:ErrorReportingOptIn', 'Refused:Schema', 'Accepted', 'Refused:ErrorReportingOptIn']);
      assert.equal(notJson!.status, 400);
      assert.equal(notJson!.body.message, 'Body is not valid JSON but content-type is set to \'application/json\'');
      assert.deepEqual([empty!.status, empty!.body.message], [400, 'Events in the body must NOT have fewer than 1 items']);
      assert.deepEqual([extra!.status, extra!.body.message], [400, 'the body has no field Extra: field names are the cmdlet\'s parameter names (see /api/openapi.json)']);
      assert.deepEqual([many!.status, many!.body.message], [400, 'Events in the body must NOT have more than 500 items']);
      assert.deepEqual([array!.status, array!.body.message], [400, 'the body must be object']);
      // Prototype poisoning, also spelled with escapes, is refused as the REST API's JSON parser refuses it.
      for (const poisoned of [proto!, escapedProto!, ctor!]) assert.deepEqual([poisoned.status, poisoned.body.message], [400, notJson!.body.message]);
      const rows = stored[0] as Record<string, Array<Record<string, unknown>>>;
      assert.deepEqual(TABLES.map((table) => rows[table]!.length), [2, 3, 2]);
      const details = String(rows.telemetry_errors![0]!.details);
      for (const clear of ['peer@fabrikam.com', 'carol@fabrikam.com', 'amy@contoso.com', '198.51.100.7', '2001:db8::1']) assert.ok(!details.includes(clear), `${clear} scrubbed from ${details}`);
      assert.ok(!String(rows.telemetry_errors![1]!.details).includes('203.0.113.9'));
    });

    it('fails only the batch a dying thread held (503: send it again), logs it, and prepares the next batch in a new thread', async () => {
      const { app, log } = await appWith(w, 1);
      try {
        assert.equal((await post(app, 'census', { Events: [census('amy@contoso.com')] })).statusCode, 200);
        await app.telemetryPool.ready();
        const [first] = app.telemetryPool.threads;
        assert.ok(first, 'the first batch started a thread');
        // Long enough that the thread is still at it when it is ended: 300 reports with logs naming other people.
        const big = { Events: Array.from({ length: 300 }, (_, i) => errorReport('amy@contoso.com', undefined, { Log: Array.from({ length: 8 }, (_x, n) => `INVITE sip:peer${i}-${n}@fabrikam.com via 198.51.100.${n}:5061`).join('\n') })) };
        const since = await lastIds();
        const answer = post(app, 'error', big);
        while (app.telemetryPool.inFlight === 0) await new Promise((r) => setImmediate(r));
        await first.terminate();
        const failed = await answer;
        assert.equal(failed.statusCode, 503, failed.body);
        assert.equal(failed.json().error, 'Transient');
        assert.match(failed.json().message, /^the telemetry thread preparing it stopped \(exit code 1\): nothing of this telemetry batch was stored; send it again$/);
        assert.deepEqual(await rowsAfter(since), { telemetry_census: [], telemetry_usage: [], telemetry_errors: [] });
        assert.match(log(), /a telemetry ingestion thread stopped \(exit code 1\); 1 batch\(es\) failed with 503/);
        const again = await post(app, 'error', big);
        assert.equal(again.statusCode, 200, again.body);
        assert.equal(again.json().Accepted, 300);
        assert.equal(app.telemetryPool.threads.length, 1);
        assert.notEqual(app.telemetryPool.threads[0], first, 'a new thread');
        assert.equal((await rowsAfter(since)).telemetry_errors!.length, 300);
      } finally {
        await app.close();
      }
    });

    it('ends every ingestion thread when the app closes', async () => {
      const { app } = await appWith(w, 2);
      const r = await post(app, 'usage', { Events: [usage()] });
      assert.equal(r.statusCode, 200);
      await app.telemetryPool.ready();
      const threads = [...app.telemetryPool.threads];
      assert.equal(threads.length, 2);
      const exits = threads.map((th) => new Promise<number>((resolve) => th.once('exit', resolve)));
      await app.close();
      assert.equal(app.telemetryPool.threads.length, 0);
      await Promise.all(exits);
      assert.deepEqual(threads.map((th) => th.threadId), [-1, -1], 'no thread still runs');
    });

    it('the built mms serve ingests in its threads and exits on SIGTERM (status 0) with them ended', async () => {
      const s = await servedTelemetry(t);
      try {
        const port = await freePort();
        const serve = startWorker({ url: s.fresh.url, leaseMs: 60_000, pollMs: 1000, batchSize: 50, env: { ...s.env, MMS_HTTP_ADDRESS: `127.0.0.1:${port}`, MMS_TELEMETRY_THREADS: '1' } });
        await serve.waitForLog('the API listening', (rec) => rec.msg?.startsWith('REST API listening') === true, { stallMs: 60_000, from: 0 });
        const r = await fetch(`http://127.0.0.1:${port}/telemetry/v1/census`, { method: 'POST', headers: { authorization: `MmsTelemetry ${s.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ Events: [census('amy@contoso.com')] }) });
        assert.equal(r.status, 200, await r.clone().text());
        assert.deepEqual(outcomes(await r.json()), ['Accepted']);
        await serve.waitForLog('the thread started', (rec) => /^telemetry ingestion thread \d+ starting \(1 of 1/.test(rec.msg ?? ''), { stallMs: 10_000, from: 0 });
        const exit = await stopWorker(serve);
        assert.deepEqual(exit, { code: 0, signal: null }, serve.output().slice(-2000));
        assert.doesNotMatch(serve.output(), /ingestion thread stopped|"level":50/);
      } finally {
        await s.close();
      }
    });
  });
}
