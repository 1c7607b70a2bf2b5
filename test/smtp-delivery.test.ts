// Issue 8 §3: the outbox goes out by mail. A migration's iMIP updates (RFC 6047) reach a real SMTP server
// (`smtp-server` on a loopback port, `mailparser` reading what arrived) once each, with the organizer as From and
// the service mailbox as Sender, a Message-ID that is the same on every try, and the stored iTIP text byte for byte;
// a 421 is retried with backoff, a 550 ends Failed with the server's reply, Send-MmsOutbox -Retry sends it again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { assertValidItip } from './helpers/libical.js';
import { DAY, EXTERNAL, SERVICE_ADDRESS, expectedBlock, march, withMigrationFixture, type MigrationFixture } from './helpers/migration-fixture.js';
import { ACTOR } from './helpers/directory-fixture.js';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp-server.js';
import { OutboxSender, type MailSettled } from '../src/delivery/index.js';
import { loadConfig, parseSmtpUrl } from '../src/config.js';
import { runCli } from '../src/cli/run-cli.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sha16 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 16);

/** A sender on the test server: no rate to speak of, retries a few ms apart, a short idle poll. */
function senderFor(fx: MigrationFixture, server: TestSmtpServer, opts: { senderId?: string; maxAttempts?: number; url?: string; tlsOptions?: Record<string, unknown>; rate?: number } = {}) {
  return new OutboxSender({
    db: fx.db, smtp: parseSmtpUrl(opts.url ?? server.url), rate: opts.rate ?? 1000, logger: silent, leaseMs: 60_000, pollMs: 10,
    retry: { maxAttempts: opts.maxAttempts ?? 5, baseMs: 5 }, senderId: opts.senderId, tlsOptions: opts.tlsOptions,
  });
}

type OutboxRow = { id: number; uid: string; recipient: string; state: string; attempts: number; last_reply: string | null; lease_owner: string | null };

async function externalRows(fx: MigrationFixture, correlationId: string): Promise<OutboxRow[]> {
  const rows = await fx.db.kysely.selectFrom('outbox').select(['id', 'uid', 'recipient', 'state', 'attempts', 'last_reply', 'lease_owner'])
    .where('correlation_id', '=', correlationId).where('internal', '=', 0).orderBy('id').execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts) }));
}

/**
 * Resolves when `done` holds for the migration's external rows, checked each time a sender records a message or
 * finds nothing to claim: it waits on the senders' events, never on the clock.
 */
function whenRows(fx: MigrationFixture, correlationId: string, senders: readonly OutboxSender[], done: (rows: OutboxRow[]) => boolean): Promise<OutboxRow[]> {
  return new Promise((resolve, reject) => {
    let checking = false;
    let again = false;
    const stopListening = () => senders.forEach((s) => { s.off('settled', check); s.off('idle', check); });
    async function check(): Promise<void> {
      if (checking) { again = true; return; }
      checking = true;
      try {
        do {
          again = false;
          const rows = await externalRows(fx, correlationId);
          if (done(rows)) { stopListening(); resolve(rows); return; }
        } while (again);
      } catch (err) {
        stopListening();
        reject(err);
      } finally {
        checking = false;
      }
    }
    senders.forEach((s) => { s.on('settled', check); s.on('idle', check); });
    void check();
  });
}

/** Two meetings of amy's with four external recipients: xena and yuri on one, fay (on-premises mailbox) and xena on the other. */
async function migrateWithExternals(fx: MigrationFixture) {
  const vendor = await fx.schedule({ subject: 'Vendor sync', start: march(12), uid: 'vendor@contoso.com', meetingId: 'VND23456' });
  const plan = await fx.schedule({ subject: 'Planning — 計画 🚀', start: march(13), uid: 'plan@contoso.com', meetingId: 'PLN23456', attendees: [fx.upn('ben'), fx.upn('fay'), EXTERNAL.xena] });
  await fx.retarget();
  fx.clock.advance(DAY);
  const request = await fx.migrate();
  const rows = await externalRows(fx, request.correlationId);
  assert.deepEqual(rows.map((r) => [r.uid, r.recipient, r.state]), [
    [vendor.uid, EXTERNAL.xena, 'Queued'], [vendor.uid, EXTERNAL.yuri, 'Queued'], [plan.uid, fx.upn('fay'), 'Queued'], [plan.uid, EXTERNAL.xena, 'Queued'],
  ]);
  return { request, vendor, plan, rows };
}

function capture() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

async function cli(fx: MigrationFixture, argv: string[], json = true) {
  const out = capture();
  const err = capture();
  const code = await runCli(json ? [...argv, '--json'] : argv, { stdout: out.stream, stderr: err.stream, isTty: false, now: () => fx.clock.now, env: { MMS_DATABASE_URL: fx.url, MMS_ACTOR: ACTOR } }, CMDLETS);
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The raw MIME part whose Content-Type is text/calendar: its headers and body lines. */
function calendarPart(raw: string): { headers: string; body: string[] } {
  const at = raw.search(/^Content-Type: text\/calendar/im);
  assert.ok(at >= 0, 'no text/calendar part');
  const rest = raw.slice(at);
  const blank = rest.indexOf('\r\n\r\n');
  const headers = rest.slice(0, blank);
  const body = rest.slice(blank + 4).split('\r\n');
  return { headers, body: body.slice(0, body.findIndex((l) => l.startsWith('--'))) };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * `mms serve` as an operator starts it, with the SMTP settings, until SIGTERM. Resolves with its exit and log
 * records once `stopWhen` accepted a log record (then it is sent SIGTERM) or it exited by itself.
 */
function serveUntil(env: Record<string, string>, stopWhen: (logs: Array<Record<string, unknown>>) => boolean, started?: (child: ChildProcess) => void) {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMS_') && k !== 'NODE_TEST_CONTEXT') clean[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT, env: { ...clean, TZ: 'UTC', MMS_DEMO: 'false', MMS_MIGRATION_DELAY: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  started?.(child);
  const logs: Array<Record<string, unknown>> = [];
  let out = '';
  let pending = '';
  let signalled = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
    if (!signalled && stopWhen(logs)) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; logs: typeof logs; output: string }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, logs, output: out }));
  });
}

async function withServer(t: TestDatabase, fn: (fx: MigrationFixture, server: TestSmtpServer) => Promise<void>, opts: { starttls?: boolean } = {}): Promise<void> {
  const server = await startSmtpServer(opts);
  try {
    await withMigrationFixture(t, (fx) => fn(fx, server));
  } finally {
    await server.close();
  }
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: the outbox is sent by SMTP`, { skip: t.skip }, () => {
    it('each external recipient gets each update exactly once, even from two senders at once, as an RFC 6047 message carrying the stored iTIP text byte for byte', { timeout: 60_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request, vendor, plan } = await migrateWithExternals(fx);
        const a = senderFor(fx, server, { senderId: 'sender-a' });
        const b = senderFor(fx, server, { senderId: 'sender-b' });
        const running = [a.start(), b.start()];
        try {
          const rows = await whenRows(fx, request.correlationId, [a, b], (rs) => rs.every((r) => r.state === 'Sent'));
          for (const r of rows) {
            assert.equal(r.attempts, 1, `${r.recipient}: ${r.attempts} attempts`);
            assert.match(r.last_reply ?? '', /^250 /);
            assert.equal(r.lease_owner, null);
          }
          // Both senders looked again and found nothing more: nothing else can arrive.
          await Promise.all([a, b].map((s) => new Promise((resolve) => s.once('idle', resolve))));
        } finally {
          await Promise.all([a.stop(), b.stop()]);
          await Promise.all(running);
        }
        const arrivals = server.arrivals;
        assert.equal(arrivals.length, 4, 'each message arrives once');
        const stored = new Map((await fx.notifications(request.correlationId)).filter((n) => !n.internal).map((n) => [`${n.uid} ${n.recipient}`, n.ics ?? '']));
        const seen = arrivals.map((x) => `${x.envelope.to.join(',')} ${x.mail.messageId}`);
        assert.equal(new Set(seen).size, 4);
        const calendars: string[] = [];
        for (const { raw, mail, envelope } of arrivals) {
          const recipient = envelope.to[0] ?? '';
          assert.deepEqual(envelope, { from: SERVICE_ADDRESS, to: [recipient] }, 'bounces go to the service mailbox');
          const uid = mail.subject === 'Vendor sync' ? vendor.uid : plan.uid;
          assert.equal(mail.subject, uid === vendor.uid ? 'Vendor sync' : 'Planning — 計画 🚀');
          assert.deepEqual(mail.from?.value.map((v) => v.address), ['amy@contoso.com']);
          assert.equal((mail.headers.get('sender') as { value: Array<{ address: string }> }).value[0]?.address, SERVICE_ADDRESS);
          assert.deepEqual((Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((x) => x?.value.map((v) => v.address)), [recipient]);
          assert.equal(mail.messageId, `<${request.correlationId}.${sha16(uid)}.${sha16(recipient)}@contoso.com>`);
          assert.equal((mail.headers.get('content-type') as { value: string }).value, 'multipart/alternative');
          const block = expectedBlock(uid === vendor.uid ? 'https://meet.contoso.com/amy/VND23456' : 'https://meet.contoso.com/amy/PLN23456');
          const firstBlockLine = block.split(/\r?\n/).find((l) => /meet\.contoso\.com/.test(l)) ?? '';
          assert.ok(mail.text?.includes(firstBlockLine), `the text part lacks the new block:\n${mail.text}`);
          assert.ok(mail.text?.includes('The online meeting information of this meeting has changed.'), mail.text);
          assert.ok(mail.html && mail.html.includes('<html lang="en">'), `the HTML part does not say its language:\n${mail.html}`);
          assert.ok(mail.html && mail.html.includes(mail.subject ?? '') && mail.html.includes('meet.contoso.com/amy/'), `the HTML part lacks the subject or block:\n${mail.html}`);
          // The iTIP part, as sent: the stored text byte for byte, in lines of at most 76 characters.
          const part = calendarPart(raw.toString('latin1'));
          assert.match(part.headers, /^Content-Type: text\/calendar; method=REQUEST; charset=UTF-8\r?$/im);
          assert.match(part.headers, /^Content-Transfer-Encoding: base64\r?$/im);
          assert.ok(part.body.every((l) => l.length <= 76), 'a line of the calendar part is longer than 76');
          const bytes = Buffer.from(part.body.join(''), 'base64');
          const expected = stored.get(`${uid} ${recipient}`);
          assert.ok(expected, `nothing stored for ${uid} ${recipient}`);
          assert.ok(bytes.equals(Buffer.from(expected, 'utf8')), 'the iTIP part differs from the stored text');
          calendars.push(bytes.toString('utf8'));
        }
        assertValidItip(calendars, 'iTIP message received by SMTP');
      }));

    it('the text and HTML renderings speak the organizer\'s language', { timeout: 60_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        await fx.db.kysely.updateTable('users').set({ preferred_language: 'de-DE' }).where('upn', '=', fx.upn('amy')).execute();
        const s = senderFor(fx, server);
        const running = s.start();
        try {
          await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        assert.equal(server.arrivals.length, 4);
        for (const { mail } of server.arrivals) {
          assert.ok(mail.text?.includes('Die Informationen zur Onlinebesprechung dieser Besprechung haben sich geändert.'), mail.text);
          const html = mail.html || '';
          assert.ok(html.includes('<html lang="de">') && html.includes('Ihre Antwort bleibt erhalten.'), html);
        }
      }));

    it('MMS_SMTP_RATE spaces the messages to a server at least 1/rate apart', { timeout: 60_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        const s = senderFor(fx, server, { rate: 20 });
        const running = s.start();
        try {
          await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        const at = server.arrivals.map((a) => a.at);
        assert.equal(at.length, 4);
        // Lower bounds only (a slow machine spaces them more). The limiter spaces the starts of sends 50 ms apart; the
        // first message's DATA also waited for the connection to be set up, so the gaps are measured from the second
        // on (less a few ms of network jitter), and the whole run spans at least two full intervals.
        const gaps = at.slice(2).map((x, i) => x - (at[i + 1] as number));
        assert.ok(gaps.every((g) => g >= 45), `gaps ${gaps.map((g) => g.toFixed(1)).join(', ')} ms at 20 messages per second`);
        assert.ok((at[3] as number) - (at[0] as number) >= 100, `4 messages within ${((at[3] as number) - (at[0] as number)).toFixed(1)} ms`);
      }));

    it('a sender stopped in the middle of a batch records the message in hand and gives the rest back to Queued, their claim not counted', { timeout: 60_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        // 2 per second: the whole batch is claimed at once, and the stop comes while the sender waits for its turn.
        const s = senderFor(fx, server, { rate: 2 });
        let stopped: Promise<void> | undefined;
        s.once('settled', () => { stopped = s.stop(); });
        await s.start();
        await stopped;
        const rows = await externalRows(fx, request.correlationId);
        assert.deepEqual(rows.map((r) => [r.state, r.attempts, r.lease_owner]), [['Sent', 1, null], ['Queued', 0, null], ['Queued', 0, null], ['Queued', 0, null]]);
        assert.equal(server.arrivals.length, 1);
      }));

    it('a server that answers 421 gets the message again after a backoff, and it ends Sent on the second attempt', { timeout: 60_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        // The first four messages offered (the whole first batch: each message once) are refused, the rest accepted.
        server.respond = (n) => (n <= 4 ? { code: 421, text: '4.3.2 Service busy, try again later' } : undefined);
        const s = senderFor(fx, server);
        const outcomes: MailSettled[] = [];
        s.on('settled', (e: MailSettled) => outcomes.push(e));
        const running = s.start();
        let rows: OutboxRow[];
        try {
          rows = await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        assert.equal(server.refused, 4);
        const retried = outcomes.filter((o) => o.state === 'Queued');
        assert.deepEqual(retried.map((o) => o.id).sort(), rows.map((r) => r.id).sort(), 'each message was refused once');
        assert.ok(retried.every((o) => /^421 /.test(o.reply) && o.reply.includes('try again later')), JSON.stringify(retried));
        for (const row of rows) {
          assert.equal(row.attempts, 2, JSON.stringify(row));
          assert.match(row.last_reply ?? '', /^250 /);
        }
        assert.equal(server.arrivals.length, 4);
        assert.equal(new Set(server.arrivals.map((x) => x.mail.messageId)).size, 4);
      }));

    it('a 550 ends Failed with the server\'s reply, Get-MmsOutbox shows it, and Send-MmsOutbox -Retry sends it again', { timeout: 60_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request } = await migrateWithExternals(fx);
        server.respond = (_n, env) => (env.to.includes(EXTERNAL.xena) ? { code: 550, text: '5.1.1 <xena@fabrikam.com>: mailbox unavailable' } : undefined);
        let s = senderFor(fx, server);
        let running = s.start();
        let rows: OutboxRow[];
        try {
          rows = await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent' || r.state === 'Failed'));
        } finally {
          await s.stop();
          await running;
        }
        assert.deepEqual(rows.map((r) => [r.recipient, r.state, r.attempts]), [
          [EXTERNAL.xena, 'Failed', 1], [EXTERNAL.yuri, 'Sent', 1], [fx.upn('fay'), 'Sent', 1], [EXTERNAL.xena, 'Failed', 1],
        ]);
        const failed = rows.filter((r) => r.state === 'Failed');
        for (const r of failed) assert.equal(r.last_reply, '550 5.1.1 <xena@fabrikam.com>: mailbox unavailable');
        assert.equal(server.arrivals.length, 2);

        const listed = await cli(fx, ['Get-MmsOutbox', '-State', 'Failed', '-CorrelationId', request.correlationId]);
        assert.equal(listed.code, 0, listed.stderr);
        assert.deepEqual((JSON.parse(listed.stdout) as Array<Record<string, unknown>>).map((r) => [r['Id'], r['Recipient'], r['State'], r['Attempts'], r['LastReply']]),
          failed.map((r) => [r.id, EXTERNAL.xena, 'Failed', 1, '550 5.1.1 <xena@fabrikam.com>: mailbox unavailable']));

        // The mailbox is back. One message by its Id first, then the rest.
        server.respond = () => undefined;
        const [first, second] = failed as [OutboxRow, OutboxRow];
        const one = await cli(fx, ['Send-MmsOutbox', '-Retry', '-Id', String(first.id)]);
        assert.equal(one.code, 0, one.stderr);
        assert.deepEqual(JSON.parse(one.stdout).Ids, [first.id]);
        const sent = rows.find((r) => r.state === 'Sent') as OutboxRow;
        const notFailed = await cli(fx, ['Send-MmsOutbox', '-Retry', '-Id', String(sent.id)]);
        assert.equal(notFailed.code === 0, false);
        assert.equal(notFailed.stderr.trim().split('\n').length, 1);
        assert.match(notFailed.stderr, new RegExp(`outbox message ${sent.id} is Sent, not Failed`));
        const help = await cli(fx, ['help', 'Send-MmsOutbox'], false);
        assert.match(help.stdout, /-Retry/);
        assert.match(help.stdout, /mms Send-MmsOutbox -Retry -Id 42/);
        const noSwitch = await cli(fx, ['Send-MmsOutbox']);
        assert.notEqual(noSwitch.code, 0);
        assert.match(noSwitch.stderr, /needs -Retry/);
        assert.deepEqual((await externalRows(fx, request.correlationId)).map((r) => [r.id, r.state, r.attempts]).filter(([id]) => id === first.id || id === second.id),
          [[first.id, 'Queued', 0], [second.id, 'Failed', 1]]);
        const rest = await cli(fx, ['Send-MmsOutbox', '-Retry']);
        assert.deepEqual(JSON.parse(rest.stdout).Ids, [second.id]);

        s = senderFor(fx, server);
        running = s.start();
        try {
          rows = await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        assert.equal(server.arrivals.length, 4);
        assert.deepEqual(server.arrivals.slice(2).map((x) => x.envelope.to).sort(), [[EXTERNAL.xena], [EXTERNAL.xena]]);
        for (const r of rows.filter((x) => x.recipient === EXTERNAL.xena)) assert.match(r.last_reply ?? '', /^250 /);
      }));
  });
}

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
