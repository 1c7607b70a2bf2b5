// The outbox-over-SMTP tests' shared parts (issue 8 §3): a migration that leaves iMIP messages for four external
// recipients, senders on the test SMTP server, waits on the senders' events for the outbox rows to reach a state,
// `mms` commands, and `mms serve` as an operator starts it.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestDatabase } from './databases.js';
import { DAY, EXTERNAL, march, withMigrationFixture, type MigrationFixture } from './migration-fixture.js';
import { ACTOR } from './directory-fixture.js';
import { startSmtpServer, type TestSmtpServer } from './smtp-server.js';
import { OutboxSender } from '../../src/delivery/index.js';
import { parseSmtpUrl } from '../../src/config.js';
import { runCli } from '../../src/cli/run-cli.js';
import { CMDLETS } from '../../src/cli/cmdlets/index.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A sender on the test server: no rate to speak of, retries a few ms apart, a short idle poll. */
export function senderFor(fx: MigrationFixture, server: TestSmtpServer, opts: { senderId?: string; maxAttempts?: number; url?: string; tlsOptions?: Record<string, unknown>; rate?: number } = {}) {
  return new OutboxSender({
    db: fx.db, smtp: parseSmtpUrl(opts.url ?? server.url), rate: opts.rate ?? 1000, logger: silent, leaseMs: 60_000, pollMs: 10,
    retry: { maxAttempts: opts.maxAttempts ?? 5, baseMs: 5 }, senderId: opts.senderId, tlsOptions: opts.tlsOptions,
  });
}

/** An external recipient's outbox row, as the tests read it. */
export type OutboxRow = { id: number; uid: string; recipient: string; state: string; attempts: number; last_reply: string | null; lease_owner: string | null };

/** The external recipients' outbox rows of one migration, oldest first. */
export async function externalRows(fx: MigrationFixture, correlationId: string): Promise<OutboxRow[]> {
  const rows = await fx.db.kysely.selectFrom('outbox').select(['id', 'uid', 'recipient', 'state', 'attempts', 'last_reply', 'lease_owner'])
    .where('correlation_id', '=', correlationId).where('internal', '=', 0).orderBy('id').execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts) }));
}

/**
 * Resolves when `done` holds for the migration's external rows, checked each time a sender records a message or
 * finds nothing to claim: it waits on the senders' events, never on the clock.
 */
export function whenRows(fx: MigrationFixture, correlationId: string, senders: readonly OutboxSender[], done: (rows: OutboxRow[]) => boolean): Promise<OutboxRow[]> {
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
export async function migrateWithExternals(fx: MigrationFixture) {
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

/** A stream that keeps what is written to it. */
export function capture() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

/** Runs an `mms` command against the fixture's database, with `--json` unless told not to. */
export async function cli(fx: MigrationFixture, argv: string[], json = true) {
  const out = capture();
  const err = capture();
  const code = await runCli(json ? [...argv, '--json'] : argv, { stdout: out.stream, stderr: err.stream, isTty: false, now: () => fx.clock.now, env: { MMS_DATABASE_URL: fx.url, MMS_ACTOR: ACTOR } }, CMDLETS);
  return { code, stdout: out.text(), stderr: err.text() };
}


const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `mms serve` as an operator starts it, with the SMTP settings, until SIGTERM. Resolves with its exit and log
 * records once `stopWhen` accepted a log record (then it is sent SIGTERM) or it exited by itself.
 */
export function serveUntil(env: Record<string, string>, stopWhen: (logs: Array<Record<string, unknown>>) => boolean, started?: (child: ChildProcess) => void) {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMS_') && k !== 'NODE_TEST_CONTEXT') clean[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT, env: { ...clean, TZ: 'UTC', MMS_DEMO: 'false', MMS_MIGRATION_DELAY: '0', MMS_HTTP_ADDRESS: '127.0.0.1:0', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
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

/** Runs `fn` with a fresh migration fixture and a test SMTP server, and always closes and drops both. */
export async function withServer(t: TestDatabase, fn: (fx: MigrationFixture, server: TestSmtpServer) => Promise<void>, opts: { starttls?: boolean } = {}): Promise<void> {
  const server = await startSmtpServer(opts);
  try {
    await withMigrationFixture(t, (fx) => fn(fx, server));
  } finally {
    await server.close();
  }
}

