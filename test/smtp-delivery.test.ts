// Issue 8 §3: the outbox goes out by mail. A migration's iMIP updates (RFC 6047) reach a real SMTP server
// (`smtp-server` on a loopback port, `mailparser` reading what arrived) once each, with the organizer as From and
// the service mailbox as Sender, a Message-ID that is the same on every try, and the stored iTIP text byte for byte;
// the rate limit holds; a 421 is retried with backoff, a 550 ends Failed with the server's reply, Send-MmsOutbox
// -Retry sends it again. (mms serve, TLS, the at-least-once window and the settings: smtp-serve.test.ts.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TEST_DATABASES } from './helpers/databases.js';
import { assertValidItip } from './helpers/libical.js';
import { EXTERNAL, SERVICE_ADDRESS, expectedBlock } from './helpers/migration-fixture.js';
import { cli, externalRows, migrateWithExternals, senderFor, whenRows, withServer, type OutboxRow } from './helpers/smtp-outbox.js';
import type { MailSettled } from '../src/delivery/index.js';

const sha16 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 16);

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
        const s = senderFor(fx, server, { rate: 4 });
        // The limiter starts the k-th send no earlier than k intervals after the first, which starts after `started`:
        // so the last of 4 arrivals comes at least 3 intervals (750 ms) after it, however slow the machine (a slow
        // machine only makes it later). Gaps between arrivals are not checked one by one: delivery jitter on a busy
        // machine can bunch two arrivals whose sends were spaced right. Without the limiter, 4 sends take tens of ms (about 300 ms on this 2-core machine at load 11).
        const started = performance.now();
        const running = s.start();
        try {
          await whenRows(fx, request.correlationId, [s], (rs) => rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        const at = server.arrivals.map((a) => a.at);
        assert.equal(at.length, 4);
        const span = (at[3] as number) - started;
        assert.ok(span >= 750, `4 messages at 4 per second arrived within ${span.toFixed(1)} ms of the sender's start`);
      }));

    it('unthrottled, the sender keeps one connection for 150 messages', { timeout: 60_000 }, () =>
      withServer(t, async (fx, server) => {
        const { request, rows } = await migrateWithExternals(fx);
        // 146 more recipients of the first stored message: its outbox row copied with another address each.
        const row = await fx.db.kysely.selectFrom('outbox').selectAll().where('id', '=', (rows[0] as OutboxRow).id).executeTakeFirstOrThrow();
        const { id: _id, ...copy } = row;
        await fx.db.kysely.insertInto('outbox').values(Array.from({ length: 146 }, (_, i) => ({ ...copy, recipient: `guest${i}@partner.example` }))).execute();
        const s = senderFor(fx, server, { rate: 10_000 });
        const running = s.start();
        try {
          await whenRows(fx, request.correlationId, [s], (rs) => rs.length === 150 && rs.every((r) => r.state === 'Sent'));
        } finally {
          await s.stop();
          await running;
        }
        assert.equal(server.arrivals.length, 150);
        // nodemailer's pool opens a new connection (a new greeting, a new TLS handshake) every 100 messages by default.
        assert.equal(server.connections, 1, 'one connection for 150 messages');
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

