// The emails-to-users tests' shared parts (issue 12 §3): a tenant with one bridge and two users who speak different
// languages (amy en-US, camille fr-FR), driven by real `mms` commands (the CLI entry, as an admin types them) on a
// real database with MMS_SECRET_KEY set, and an OutboxSender sending the outbox to a real SMTP server
// (`smtp-server`), where `mailparser` reads what arrived. Tests wait for arrivals and for the sender's idle
// polls as events, never on the clock.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { TestDatabase } from './databases.js';
import { runMms, type CliOutcome } from './cli-run.js';
import { startSmtpServer, type Arrival, type TestSmtpServer } from './smtp-server.js';
import { OutboxSender } from '../../src/delivery/index.js';
import { parseSmtpUrl } from '../../src/config.js';
import { secretBoxFor } from '../../src/secrets/index.js';
import { pinPepper, verifyLeaderPin } from '../../src/directory/index.js';
import type { Db } from '../../src/store/index.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export const TOLL = '+14255550100';
export const SECOND_TOLL = '+12065550100';
export const TOLL_FREE = '+18005550199';
export const PIN_LENGTH = 8;

export interface NoticeWorld {
  readonly db: Db;
  readonly url: string;
  readonly server: TestSmtpServer;
  /** `mms <argv>` on the world's database, with MMS_SECRET_KEY. */
  mms(...argv: string[]): Promise<CliOutcome>;
  /** `mms <argv> --json`, which must succeed: its answer parsed. */
  json(...argv: string[]): Promise<Record<string, unknown> & Array<Record<string, unknown>>>;
  /** The next message the SMTP server receives (in the order they arrive). */
  nextMail(): Promise<Arrival>;
  /** Resolves after the sender has twice found nothing to send since the call, and checks nothing new arrived. */
  assertNothingSent(why: string): Promise<void>;
  /** Resolves when no outbox row is Queued or Sending (checked each time the sender records a send or idles). */
  allSettled(): Promise<void>;
  /** Whether `pin` verifies against the user's stored hash (with the key's pepper). */
  pinVerifies(upn: string, pin: string): Promise<boolean>;
  /** Every row of every table the PIN could be in, as text; on SQLite also the database file and its WAL. */
  storedBytes(): Promise<string>;
}

/** A fresh world on database `t`; the sender runs until `fn` ends. */
export async function withNoticeWorld(t: TestDatabase, fn: (w: NoticeWorld) => Promise<void>): Promise<void> {
  const fresh = await t.fresh();
  const server = await startSmtpServer();
  const key = randomBytes(32);
  const env = { MMS_DATABASE_URL: fresh.url, MMS_SECRET_KEY: key.toString('base64'), MMS_ACTOR: 'tester', MMS_MIGRATION_DELAY: '0' };
  const box = secretBoxFor({ secretKey: key, dialect: fresh.db.dialect });
  const sender = new OutboxSender({
    db: fresh.db, smtp: parseSmtpUrl(server.url), rate: 1000, logger: silent, leaseMs: 60_000, pollMs: 10,
    retry: { maxAttempts: 3, baseMs: 5 }, secrets: box,
  });
  const running = sender.start();
  let seen = 0;
  const mms = (...argv: string[]) => runMms(env, () => Date.now(), argv);
  const w: NoticeWorld = {
    db: fresh.db,
    url: fresh.url,
    server,
    mms,
    async json(...argv) {
      const r = await mms(...argv, '--json');
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      return JSON.parse(r.out);
    },
    async nextMail() {
      const all = await server.waitForArrivals(seen + 1);
      return all[seen++] as Arrival;
    },
    async assertNothingSent(why) {
      await new Promise<void>((resolve) => {
        let idle = 0;
        const onIdle = () => {
          if (++idle < 2) return;
          sender.off('idle', onIdle);
          resolve();
        };
        sender.on('idle', onIdle);
      });
      assert.equal(server.arrivals.length, seen, `${why}: ${server.arrivals.length - seen} message(s) arrived: ${server.arrivals.slice(seen).map((a) => a.mail.subject).join('; ')}`);
    },
    allSettled() {
      const pending = async () => Number((await fresh.db.kysely.selectFrom('outbox').select((e) => e.fn.countAll().as('n')).where('state', 'in', ['Queued', 'Sending']).executeTakeFirstOrThrow()).n);
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          pending().then((n) => {
            if (n) return;
            sender.off('settled', check);
            sender.off('idle', check);
            resolve();
          }, reject);
        };
        sender.on('settled', check);
        sender.on('idle', check);
        check();
      });
    },
    async pinVerifies(upn, pin) {
      const row = await fresh.db.kysely.selectFrom('users').select('leader_pin_hash').where('upn', '=', upn).executeTakeFirstOrThrow();
      return verifyLeaderPin(pin, row.leader_pin_hash, pinPepper(box));
    },
    async storedBytes() {
      const k = fresh.db.kysely;
      const parts = [
        JSON.stringify(await k.selectFrom('users').selectAll().execute()),
        JSON.stringify(await k.selectFrom('outbox').selectAll().execute()),
        JSON.stringify(await k.selectFrom('outbox_messages').selectAll().execute()),
        JSON.stringify(await k.selectFrom('audit_log').selectAll().execute()),
        JSON.stringify(await k.selectFrom('migration_requests').selectAll().execute()),
      ];
      if (fresh.db.dialect === 'sqlite') {
        for (const f of [fresh.url, `${fresh.url}-wal`]) if (fs.existsSync(f)) parts.push(fs.readFileSync(f).toString('latin1'));
      }
      return parts.join('\n');
    },
  };
  try {
    for (const argv of [
      ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'],
      ['New-MmsBridge', '-Name', 'Contoso US', '-TollNumber', `${TOLL} (Seattle),${SECOND_TOLL} (Seattle)`, '-TollFreeNumber', `${TOLL_FREE} (United States)`, '-Default'],
      ['Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', String(PIN_LENGTH)],
      ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Shaw', '-PreferredLanguage', 'en-US'],
      ['New-MmsUser', 'camille@contoso.com', '-DisplayName', 'Camille Dubois', '-PreferredLanguage', 'fr-FR'],
    ]) {
      const r = await mms(...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
    }
    await fn(w);
  } finally {
    await sender.stop();
    await running;
    await server.close();
    await fresh.drop();
  }
}

/** A message's whole text as a reader could see it: the raw bytes, and the parsed subject, text and HTML. */
export function wholeMessage(a: Arrival): string {
  return [a.raw.toString('latin1'), a.mail.subject ?? '', a.mail.text ?? '', typeof a.mail.html === 'string' ? a.mail.html : ''].join('\n');
}

/** The leader PIN a message's text part gives after `label` (e.g. 'Leader PIN: '), or a failure. */
export function pinIn(a: Arrival, label: string): string {
  const m = new RegExp(`^${label}(\\d+)$`, 'm').exec(a.mail.text ?? '');
  assert.ok(m, `no "${label}<digits>" line in:\n${a.mail.text}`);
  return m[1] as string;
}
