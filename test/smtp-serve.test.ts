// Issue 8 §3, the outbox sender in service: smtp:// sends only after STARTTLS; `mms serve` sends the outbox beside
// the migration worker and stops on SIGTERM; SMTP's one at-least-once window (a kill between the server's 250 and
// our commit) resends under the same Message-ID; MMS_SMTP_URL and MMS_SMTP_RATE are checked at start.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { TEST_DATABASES } from './helpers/databases.js';
import { externalRows, migrateWithExternals, senderFor, serveUntil, whenRows, withServer, type OutboxRow } from './helpers/smtp-outbox.js';
import { loadConfig, parseSmtpUrl } from '../src/config.js';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: TLS`, { skip: t.skip }, () => {
    it('smtp:// sends only after STARTTLS: a server that offers it gets the message encrypted, one that does not gets nothing and the message ends Failed saying why', { timeout: 60_000 }, async () => {
      await withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        // The test server's certificate is smtp-server's self-signed one: trusted here by choice, as a private CA would be.
        const s = senderFor(fx, server, { tlsOptions: { rejectUnauthorized: false } });
        const running = s.start();
        try {
          await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        assert.deepEqual(server.arrivals.map((a) => a.secure), [true, true, true, true]);
      }, { starttls: true });
      await withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        const s = senderFor(fx, server, { url: `smtp://127.0.0.1:${server.port}`, maxAttempts: 1 });
        const running = s.start();
        let rows: OutboxRow[];
        try {
          rows = await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Failed'));
        } finally {
          await s.stop();
          await running;
        }
        assert.equal(server.arrivals.length, 0, 'a message went out in plain text');
        for (const r of rows) assert.match(r.last_reply ?? '', /^gave up after 1 attempts; last reply: .*STARTTLS/, r.last_reply ?? '');
      });
    });
  });

  describe(`${t.name}: mms serve`, { skip: t.skip }, () => {
    it('sends the outbox beside the migration worker when MMS_SMTP_URL is set, and stops on SIGTERM with nothing left Sending', { timeout: 90_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        const sent = (logs: Array<Record<string, unknown>>) => logs.filter((l) => l['msg'] === 'update sent');
        const run = await serveUntil(
          { MMS_DATABASE_URL: fx.url, MMS_SMTP_URL: server.url, MMS_SMTP_RATE: '50', MMS_LOG_LEVEL: 'debug', MMS_POLL_INTERVAL: '50ms' },
          (logs) => sent(logs).length >= 4,
        );
        assert.equal(run.code, 0, run.output.slice(-3000));
        assert.equal(sent(run.logs).length, 4);
        assert.ok(run.logs.some((l) => l['msg'] === 'outbox sender stopped'), 'the sender did not stop cleanly');
        assert.ok(run.logs.some((l) => l['msg'] === 'MMS worker stopped'), 'the worker did not stop cleanly');
        const rows = await externalRows(fx, request.correlationId);
        assert.deepEqual(rows.map((r) => [r.state, r.attempts, r.lease_owner]), rows.map(() => ['Sent', 1, null]));
        assert.equal(server.arrivals.length, 4);
      }));

    it('SMTP\'s one at-least-once window: killed between the server\'s 250 and its commit, the message is sent again after the lease, under the same Message-ID', { timeout: 90_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        let child: ChildProcess | undefined;
        // The first message's data is in; the service dies before it can read the 250 and commit Sent.
        server.respond = async (n) => {
          if (n === 1 && child) {
            const gone = new Promise((resolve) => child?.once('exit', resolve));
            child.kill('SIGKILL');
            await gone;
          }
          return undefined;
        };
        const run = await serveUntil(
          { MMS_DATABASE_URL: fx.url, MMS_SMTP_URL: server.url, MMS_SMTP_RATE: '50', MMS_LEASE: '1s', MMS_POLL_INTERVAL: '50ms' },
          () => false, (c) => { child = c; },
        );
        assert.equal(run.signal, 'SIGKILL', run.output.slice(-3000));
        // The server took the message (its 250 went to a dead connection).
        assert.equal((await server.waitForArrivals(1)).length, 1);
        const held = await externalRows(fx, request.correlationId);
        assert.deepEqual(held.map((r) => r.state), ['Sending', 'Sending', 'Sending', 'Sending'], 'the dead service\'s claim');

        // Another sender takes the messages over once the dead one's lease has expired.
        const s = senderFor(fx, server);
        const running = s.start();
        let rows: OutboxRow[];
        try {
          rows = await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        assert.deepEqual(rows.map((r) => r.attempts), [2, 2, 2, 2]);
        const ids = server.arrivals.map((a) => a.mail.messageId);
        assert.equal(ids.length, 5, 'the message in the window twice, the others once');
        assert.equal(new Set(ids).size, 4);
        assert.equal(ids.filter((id) => id === ids[0]).length, 2, 'the duplicate carries the first one\'s Message-ID');
      }));
  });
}

describe('MMS_SMTP_URL and MMS_SMTP_RATE are checked at start', () => {
  it('smtp:// requires STARTTLS, smtps:// is TLS, and credentials are read from the URL but never shown', () => {
    assert.deepEqual(loadConfig({ MMS_SMTP_URL: 'smtp://mms%40contoso.com:s3cr%3At@mail.contoso.com:587' }).smtp,
      { display: 'smtp://mms%40contoso.com:***@mail.contoso.com:587', host: 'mail.contoso.com', port: 587, tls: 'starttls', auth: { user: 'mms@contoso.com', pass: 's3cr:t' } });
    assert.deepEqual(parseSmtpUrl('smtps://relay.contoso.com'), { display: 'smtps://relay.contoso.com', host: 'relay.contoso.com', port: 465, tls: 'implicit', auth: undefined });
    assert.equal(parseSmtpUrl('smtp://[::1]:2525?tls=none').tls, 'none');
    assert.equal(parseSmtpUrl('smtp://localhost:25?tls=none').host, 'localhost');
    assert.equal(loadConfig({}).smtp, undefined);
    assert.equal(loadConfig({}).smtpRate, 10);
    assert.equal(loadConfig({ MMS_SMTP_RATE: '0.5' }).smtpRate, 0.5);
  });

  it('mms serve refuses to start with plain SMTP to a host that is not loopback, in one line', { timeout: 60_000 }, async () => {
    const run = await serveUntil({ MMS_DATABASE_URL: ':memory:', MMS_SMTP_URL: 'smtp://mail.contoso.com:25?tls=none' }, () => false);
    assert.notEqual(run.code, 0);
    assert.equal(run.output, 'mms: MMS_SMTP_URL="smtp://mail.contoso.com:25?tls=none" is not valid: plain SMTP without TLS is allowed only to a loopback host (127.0.0.1, ::1, localhost), not mail.contoso.com; drop ?tls=none to use STARTTLS or use smtps://\n');
  });

  it('refuses plain SMTP to a host that is not loopback, and other bad values, each with one line that says the fix', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ MMS_SMTP_URL: 'smtp://mail.contoso.com:25?tls=none' }, /plain SMTP without TLS is allowed only to a loopback host .* not mail\.contoso\.com; drop \?tls=none/],
      [{ MMS_SMTP_URL: 'smtp://10.0.0.5?tls=none' }, /only to a loopback host/],
      [{ MMS_SMTP_URL: 'smtps://127.0.0.1?tls=none' }, /smtps:\/\/ is always TLS/],
      [{ MMS_SMTP_URL: 'http://mail.contoso.com' }, /use an smtp:\/\/ \(STARTTLS\) or smtps:\/\/ \(TLS\) URL/],
      [{ MMS_SMTP_URL: 'smtp://u:hunter2@mail.contoso.com?tls=off' }, /tls=off is not a choice/],
      [{ MMS_SMTP_URL: 'not a url' }, /give smtp:\/\/host:587/],
      [{ MMS_SMTP_RATE: '0' }, /MMS_SMTP_RATE="0" is not valid: give messages per second/],
      [{ MMS_SMTP_RATE: 'fast' }, /MMS_SMTP_RATE/],
    ];
    for (const [env, expected] of bad) {
      assert.throws(() => loadConfig(env), (err: Error) => {
        assert.match(err.message, expected);
        assert.equal(err.message.split('\n').length, 1);
        assert.ok(!err.message.includes('hunter2'), 'the password is shown');
        return true;
      }, JSON.stringify(env));
    }
  });
});

