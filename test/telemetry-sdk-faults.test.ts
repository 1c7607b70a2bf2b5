// The telemetry SDK against servers that misbehave (issue 11 review): a tiny node:http server per test answers what
// the test says — a malformed 200, a Retry-After of years, a 413 for a body over its limit — or nothing at all (a
// port nobody listens on). No database: what is checked is the client alone.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelemetryClient, type TelemetryClientOptions } from '../src/telemetry/sdk/index.js';
import { freePort } from './helpers/telemetry-serve.js';

type Answer = { status: number; body: unknown; headers?: Record<string, string> };
const CONFIG = { Census: true, Usage: true, ErrorReporting: true, MaxEventsPerBatch: 500 };
const servers: http.Server[] = [];
const clients: TelemetryClient[] = [];
after(async () => {
  for (const c of clients) await c.close(0);
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
});

/** A server answering POST /telemetry/v1/<kind> with `answer(kind, events)`; the requests it saw, in order. */
async function fakeServer(answer: (kind: string, events: unknown[]) => Answer): Promise<{ url: string; seen: Array<{ kind: string; events: unknown[] }> }> {
  const seen: Array<{ kind: string; events: unknown[] }> = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => {
      const kind = (req.url ?? '').replace(/^.*\//, '');
      const events = kind === 'config' ? [] : ((JSON.parse(text) as { Events: unknown[] }).Events);
      seen.push({ kind, events });
      const a = answer(kind, events);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(JSON.stringify(a.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const client = (serverUrl: string, opts: Partial<TelemetryClientOptions> = {}) => {
  const c = new TelemetryClient({ serverUrl, ingestionKey: 'k', appName: 'FaultApp', appVersion: '1', userId: 'amy@contoso.com', flushIntervalMs: 0, retryBaseMs: 20, retryMaxMs: 1_000, ...opts });
  clients.push(c);
  return c;
};

describe('telemetry SDK with a server that misbehaves', () => {
  it('never hands back an error report no config confirmed: with the server down, close() returns census and usage but not the clear user id', async () => {
    const c = client(`http://127.0.0.1:${await freePort()}`);
    await c.census({ DeviceModel: 'Laptop', OsName: 'Linux', OsVersion: '6.1', UserLanguage: 'en-US' });
    await c.usage({ ImSent: 1 });
    await c.error({ ErrorCode: 'CmdletFailed' });
    const left = await c.close(2_000);
    assert.deepEqual(left.map((p) => p.kind), ['census', 'usage']);
    assert.doesNotMatch(JSON.stringify(left), /amy@contoso\.com/);
    assert.equal(c.stats().suppressed, 1);
  });

  it('sends an error report kept aside once a config says ErrorReporting true, and counts it when the config says false', async () => {
    for (const errorReporting of [true, false]) {
      const s = await fakeServer((kind, events) => (kind === 'config' ? { status: 200, body: { ...CONFIG, ErrorReporting: errorReporting } } : { status: 200, body: { Results: events.map((_, Index) => ({ Index, Status: 'Accepted' })) } }));
      const c = client(s.url);
      await c.error({ ErrorCode: 'CmdletFailed' });
      assert.deepEqual(await c.close(2_000), []);
      assert.deepEqual(s.seen.map((r) => r.kind), errorReporting ? ['config', 'error'] : ['config']);
      assert.deepEqual([c.stats().accepted, c.stats().suppressed], errorReporting ? [1, 0] : [0, 1]);
    }
  });

  it('treats a 200 with malformed results as a failure to retry: flush() resolves, nothing is lost', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const s = await fakeServer((kind) => (kind === 'config' ? { status: 200, body: CONFIG } : { status: 200, body: { Results: [null] } }));
      const c = client(s.url, { retryBaseMs: 60_000, retryMaxMs: 60_000 });
      await c.usage({ ImSent: 1 });
      await c.flush();
      assert.deepEqual([c.stats().queued, c.stats().accepted, c.stats().retries], [1, 0, 1]);
      assert.match(c.stats().lastError ?? '', /valid per-event results/);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('caps a Retry-After of years at retryMaxMs: no TimeoutOverflowWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const s = await fakeServer((kind) => (kind === 'config' ? { status: 200, body: CONFIG } : { status: 429, body: { Results: [] }, headers: { 'retry-after': '99999999' } }));
      const c = client(s.url, { retryMaxMs: 3_600_000 });
      await c.usage({ ImSent: 1 });
      const before = Date.now();
      await c.flush();
      const until = c.stats().backoffUntil ?? 0;
      assert.ok(until > before && until <= Date.now() + 3_600_000, `backoff until ${until - before} ms from now`);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings.filter((n) => n === 'TimeoutOverflowWarning'), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('splits a batch the server refuses as too large (413) in halves until it passes, losing nothing', async () => {
    const s = await fakeServer((kind, events) => (kind === 'config' ? { status: 200, body: CONFIG }
      : events.length > 1 ? { status: 413, body: { error: 'PayloadTooLarge' } } : { status: 200, body: { Results: [{ Index: 0, Status: 'Accepted' }] } }));
    const c = client(s.url);
    for (let i = 0; i < 4; i++) await c.usage({ ImSent: i });
    await c.flush();
    assert.deepEqual(s.seen.filter((r) => r.kind === 'usage').map((r) => r.events.length), [4, 2, 1, 1, 1, 1]);
    assert.deepEqual([c.stats().accepted, c.stats().refused, c.stats().queued], [4, {}, 0]);
  });
});
