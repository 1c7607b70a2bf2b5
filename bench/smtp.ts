// The SMTP scenario (issue 8 §7): how fast the real outbox sender (OutboxSender, what `mms serve` runs with
// MMS_SMTP_URL) drains an outbox that a migration filled, against a plain nodemailer loop sending the same messages
// with the same connection settings to the same receiving server. See bench/README.md.
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { loadConfig, parseSmtpUrl, workerSettings } from '../src/config.js';
import { OutboxSender, imipMail, smtpTransportOptions, type ImipMailInput, type MailSettled } from '../src/delivery/index.js';
import { changeTenant, newBridge, newTenant, newUser, setDialInUser, setLicense, type DirectoryContext } from '../src/directory/index.js';
import { scheduleMeeting } from '../src/meetings/index.js';
import { MigrationWorker } from '../src/migration/index.js';
import { getRequest } from '../src/store/queue-repo.js';
import { openDatabase } from '../src/store/index.js';
import { yes, type IoRow } from './io-report.js';
import { log, seconds } from './report.js';
import { startSink, type SmtpSink } from './smtp-sink.js';
import { startWorker } from './worker-process.js';

export interface SmtpSize {
  /** Meetings of the organizer; each has EXTERNAL_PER_MEETING external attendees, so as many messages each. */
  readonly meetings: number;
  /** Messages timed with the default MMS_SMTP_RATE (which spaces them 1/rate s apart). */
  readonly defaultRateSample: number;
}

export const SMTP_FULL: SmtpSize = { meetings: 1000, defaultRateSample: 150 };
export const SMTP_QUICK: SmtpSize = { meetings: 75, defaultRateSample: 30 };
export const EXTERNAL_PER_MEETING = 4;
const INTERNAL_PER_MEETING = 2;
const TARGET_RATIO = 0.8;
/** The share of the messages that warms up code before timing: the sender's untimed run, and the serve row's first Sent stamps. */
const WARM_UP_SHARE = 0.1;
const DOMAIN = 'smtp.bench.example';
const DAY = 86_400_000;
const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** A default config's worker settings: the sender's lease, poll and retry, and the worker's poll in `mms serve`. */
const DEFAULTS = workerSettings(loadConfig({}));
const BODY = 'Hi all,\n\nAgenda:\n- Status per workstream\n- Risks and next steps (café ☕ afterwards)\n\nThanks';

/**
 * A SQLite database whose outbox holds `meetings × 4` Queued iMIP messages, filled the way users do: a tenant and
 * users through the directory API, the organizer's meetings through New-MmsMeeting (2 internal and 4 external
 * attendees each), then Set-CsOnlineDialInConferencingUser -ResetConferenceId and the migration worker.
 */
async function fillOutbox(file: string, size: SmtpSize): Promise<number> {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = await openDatabase(file);
  try {
    const ctx: DirectoryContext = { db, actor: 'bench', now: Date.now, migrationDelayMs: 0 };
    const tenant = await newTenant(ctx, { name: 'Bench SMTP', domains: [DOMAIN] });
    await changeTenant(ctx, tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: false } });
    await newBridge(ctx, tenant.id, { name: 'Bench US', tollNumbers: ['+14255550100 (Seattle) en-US'], tollFreeNumbers: ['+18665550100 (United States)'], isDefault: true });
    const organizer = `mailer@${DOMAIN}`;
    await newUser(ctx, tenant.id, { userPrincipalName: organizer, displayName: 'Mailer Organizer' });
    await setLicense(ctx, tenant.id, organizer, { add: ['AudioConferencing'] });
    const internal = Array.from({ length: 8 }, (_, i) => `colleague${i}@${DOMAIN}`);
    for (const upn of internal) await newUser(ctx, tenant.id, { userPrincipalName: upn, displayName: upn.split('@')[0] as string });
    await changeTenant(ctx, tenant.id, 'Set-CsTenantMigrationConfiguration', { settings: { meetingMigrationEnabled: true } });
    const base = Math.floor(Date.now() / DAY) * DAY + DAY;
    for (let j = 0; j < size.meetings; j++) {
      const start = base + Math.floor(j / 8) * DAY + (8 + (j % 8)) * 3_600_000;
      const attendees = [
        ...Array.from({ length: INTERNAL_PER_MEETING }, (_, k) => internal[(j + k) % internal.length] as string),
        ...Array.from({ length: EXTERNAL_PER_MEETING }, (_, k) => `guest${(j * EXTERNAL_PER_MEETING + k) % 500}@partner.example`),
      ];
      await scheduleMeeting(db, tenant.id, { organizer, subject: `Partner review ${j}`, start, end: start + 30 * 60_000, attendees, body: BODY }, Date.now);
    }
    const out = await setDialInUser(ctx, tenant.id, organizer, { resetConferenceId: true });
    if (!out.correlationId) throw new Error(`bench smtp: resetting the conference ID queued no migration: ${out.decision.reason}`);
    await new MigrationWorker({ db, logger: SILENT }).drain();
    const r = await getRequest(db, out.correlationId);
    if (r?.state !== 'Succeeded') throw new Error(`bench smtp: the migration ended ${r?.state}: ${r?.lastMessage}`);
    const queued = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('internal', '=', 0).where('state', '=', 'Queued').executeTakeFirstOrThrow();
    const expected = size.meetings * EXTERNAL_PER_MEETING;
    if (Number(queued.n) !== expected) throw new Error(`bench smtp: the migration queued ${queued.n} external messages, expected ${expected}`);
    return expected;
  } finally {
    await db.close();
  }
}

function copyOf(file: string, dest: string): string {
  for (const suffix of ['-wal', '-shm']) fs.rmSync(dest + suffix, { force: true });
  fs.copyFileSync(file, dest);
  return dest;
}

interface Drained {
  readonly messages: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly notSent: number;
}

/**
 * The sender as `mms serve` builds it (lease, poll and retry settings of a default config) on a copy of the
 * filled outbox, at `rate`; timed from start() until `count` messages are recorded Sent (the sender's commit
 * included), then stopped.
 */
async function drainWithSender(file: string, sink: SmtpSink, rate: number, count: number): Promise<Drained> {
  const db = await openDatabase(file);
  const sender = new OutboxSender({ db, logger: SILENT, smtp: parseSmtpUrl(sink.url), rate, leaseMs: DEFAULTS.leaseMs, pollMs: DEFAULTS.pollMs, retry: DEFAULTS.retry });
  await sink.reset();
  let sent = 0;
  let notSent = 0;
  try {
    const t0 = performance.now();
    let t1 = 0;
    const done = new Promise<void>((resolve) => {
      sender.on('settled', (s: MailSettled) => {
        if (s.state === 'Sent') sent += 1;
        else notSent += 1;
        if (sent + notSent >= count && !t1) {
          t1 = performance.now();
          resolve();
        }
      });
      sender.on('idle', () => resolve());
    });
    const running = sender.start();
    await done;
    if (!t1) t1 = performance.now();
    await sender.stop();
    await running;
    const c = await sink.counts();
    return { messages: sent, seconds: (t1 - t0) / 1000, bytes: c.bytes, notSent };
  } finally {
    await db.close();
  }
}

/**
 * `mms serve` as deployed, in its own process, with MMS_SMTP_URL and MMS_SMTP_RATE, on a copy of the filled outbox.
 * Its start-up is not in the figure: the rate is over the sender's own Sent stamps after the first WARM_UP_SHARE of
 * them (steady state); the whole run's rate, first to last stamp, is kept beside it (`wholeRun`).
 */
async function drainWithServe(file: string, sink: SmtpSink, rate: number, count: number): Promise<Drained & { readonly wholeRun: { readonly messages: number; readonly seconds: number } }> {
  await sink.reset();
  // A default config but for MMS_SMTP_URL and MMS_SMTP_RATE (the worker beside the sender polls at its default).
  const worker = startWorker({ databaseUrl: file, pollMs: DEFAULTS.pollMs, env: { MMS_SMTP_URL: sink.url, MMS_SMTP_RATE: String(rate) } });
  const db = await openDatabase(file);
  try {
    const deadline = Date.now() + 600_000;
    for (;;) {
      const exit = worker.exited();
      if (exit) throw new Error(`bench smtp: mms serve exited (${exit.code}): ${exit.stderr.trim().slice(-500)}`);
      const r = await db.kysely.selectFrom('outbox').select((eb) => [eb.fn.countAll<number>().as('n')]).where('internal', '=', 0).where('state', '=', 'Sent').executeTakeFirstOrThrow();
      if (Number(r.n) >= count) {
        const c = await sink.counts();
        // Steady state: the rate over the Sent stamps after the first WARM_UP_SHARE of the messages (a service that
        // has just started sends its first messages with cold code; one that runs for days does not).
        const stamps = (await db.kysely.selectFrom('outbox').select('sent_at').where('internal', '=', 0).where('state', '=', 'Sent').orderBy('sent_at').execute()).map((x) => Number(x.sent_at));
        const from = Math.floor(stamps.length * WARM_UP_SHARE);
        const counted = stamps.length - from;
        const seconds = ((stamps[stamps.length - 1] as number) - (stamps[from] as number)) / 1000 * (counted / (counted - 1));
        const all = stamps.length;
        const wholeRun = { messages: all, seconds: ((stamps[all - 1] as number) - (stamps[0] as number)) / 1000 * (all / (all - 1)) };
        return { messages: counted, seconds, bytes: c.bytes * (counted / all), notSent: 0, wholeRun };
      }
      if (Date.now() > deadline) throw new Error(`bench smtp: mms serve sent ${r.n} of ${count} messages in 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await worker.stop();
    await db.close();
  }
}

/** The same messages as the sender makes them (imipMail, composed by nodemailer's own MailComposer), composed before timing. */
interface Composed {
  readonly messages: Array<{ envelope: { from: string; to: string[] }; raw: Buffer }>;
  /** What imipMail was given for each message (the outbox row and its stored message, as claimMail reads them). */
  readonly inputs: ImipMailInput[];
  /** Time spent, one message after the other: imipMail (the renderings, the calendar part) and nodemailer's MIME build. */
  readonly imipMailMs: number;
  readonly buildMs: number;
}

async function composeAll(file: string): Promise<Composed> {
  const db = await openDatabase(file);
  try {
    const rows = await db.kysely.selectFrom('outbox as o').innerJoin('outbox_messages as m', 'm.id', 'o.message_id').leftJoin('users as u', 'u.id', 'o.organizer_id')
      .select(['o.correlation_id', 'o.uid', 'o.recipient', 'm.from_address', 'm.sender_address', 'm.subject', 'm.ics', 'u.preferred_language'])
      .where('o.internal', '=', 0).where('o.state', '=', 'Queued').orderBy('o.id').execute();
    const messages: Composed['messages'] = [];
    const inputs: ImipMailInput[] = [];
    let imipMailMs = 0;
    let buildMs = 0;
    for (const r of rows) {
      const t0 = performance.now();
      const input: ImipMailInput = { correlationId: r.correlation_id, uid: r.uid, recipient: r.recipient, from: r.from_address, sender: r.sender_address, subject: r.subject, ics: r.ics, language: r.preferred_language ?? undefined };
      inputs.push(input);
      const mail = imipMail(input);
      const t1 = performance.now();
      const raw = await new MailComposer(mail).compile().build();
      buildMs += performance.now() - t1;
      imipMailMs += t1 - t0;
      messages.push({ envelope: mail.envelope, raw });
    }
    return { messages, inputs, imipMailMs, buildMs };
  } finally {
    await db.close();
  }
}

/** The floor: a plain loop of nodemailer sendMail calls with the raw messages, one at a time, on the sender's transport settings. */
type Sendable = { envelope: { from: string; to: string[] }; raw: Buffer } | ImipMailInput;

async function plainLoop(sink: SmtpSink, messages: readonly Sendable[]): Promise<Drained> {
  const s = parseSmtpUrl(sink.url);
  // The settings OutboxSender gives its transport (src/delivery/outbox-sender.ts): pooled, one connection, as many
  // messages on it before a new one.
  const transport = nodemailer.createTransport(smtpTransportOptions(s, DEFAULTS.leaseMs));
  await sink.reset();
  try {
    const t0 = performance.now();
    let sent = 0;
    for (const m of messages) {
      await transport.sendMail('raw' in m ? { envelope: m.envelope, raw: m.raw } : imipMail(m));
      sent += 1;
    }
    const elapsed = (performance.now() - t0) / 1000;
    const c = await sink.counts();
    return { messages: sent, seconds: elapsed, bytes: c.bytes, notSent: 0 };
  } finally {
    transport.close();
  }
}

export async function smtpScenario(size: SmtpSize, workDir: string, keep: boolean): Promise<IoRow[]> {
  const source = path.join(workDir, 'smtp-outbox.sqlite');
  log(`smtp: filling the outbox (${size.meetings} meetings x ${EXTERNAL_PER_MEETING} external attendees, New-MmsMeeting then -ResetConferenceId and the worker)`);
  const f0 = performance.now();
  const total = await fillOutbox(source, size);
  log(`  ${total} Queued messages in ${seconds((performance.now() - f0) / 1000)}`);
  const defaultRate = loadConfig({}).smtpRate;
  // The highest MMS_SMTP_RATE accepted (src/config.ts CONFIG_RANGES): 0.1 ms between sends, far below a send's time.
  const unthrottled = 10_000;
  const sink = await startSink();
  const files: string[] = [];
  try {
    log('smtp: composing the floor\'s messages (not timed)');
    const composed = await composeAll(source);
    const raws = composed.messages;
    const perMessage = (ms: number) => (ms / Math.max(1, raws.length)).toFixed(2);
    log(`  imipMail ${perMessage(composed.imipMailMs)} ms, MailComposer build ${perMessage(composed.buildMs)} ms a message`);
    const rawBytes = raws.reduce((a, m) => a + m.raw.length, 0);

    // The floor runs first and last, and its figure is the mean of the two: the machine's drift during the
    // scenario weighs on both sides alike.
    const runFloor = async (which: string) => {
      log(`smtp: the floor (${which}), a plain nodemailer loop of the same ${raws.length} messages`);
      const f = await plainLoop(sink, raws);
      log(`  ${f.messages} sent in ${seconds(f.seconds)}: ${(f.messages / f.seconds).toFixed(0)} messages/s`);
      return f;
    };
    // Warm-up, not timed: the first messages of a fresh process (JIT, the sink's first connection) are slow.
    const warm = await plainLoop(sink, raws);
    log(`  warm-up (not timed): ${(warm.messages / warm.seconds).toFixed(0)} messages/s`);
    await plainLoop(sink, composed.inputs);
    const floorBefore = await runFloor('before the sender');

    log(`smtp: OutboxSender, unthrottled (MMS_SMTP_RATE=${unthrottled}), ${total} messages`);
    // Its code warmed up first, as the floor's was, on a copy of its own (not timed).
    const warmCopy = copyOf(source, path.join(workDir, 'smtp-warm.sqlite'));
    await drainWithSender(warmCopy, sink, unthrottled, Math.ceil(total * WARM_UP_SHARE));
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(warmCopy + suffix, { force: true });
    files.push(copyOf(source, path.join(workDir, 'smtp-unthrottled.sqlite')));
    const fast = await drainWithSender(files[0] as string, sink, unthrottled, total);
    log(`  ${fast.messages} sent in ${seconds(fast.seconds)}: ${(fast.messages / fast.seconds).toFixed(0)} messages/s`);

    log(`smtp: mms serve in its own process, MMS_SMTP_RATE=${unthrottled}, ${total} messages`);
    files.push(copyOf(source, path.join(workDir, 'smtp-serve.sqlite')));
    const served = await drainWithServe(files[1] as string, sink, unthrottled, total);
    const whole = served.wholeRun;
    log(`  ${whole.messages} sent: ${(served.messages / served.seconds).toFixed(0)} messages/s over the last ${served.messages} (steady state); ${(whole.messages / whole.seconds).toFixed(0)} over all of them, first to last Sent stamp`);

    log(`smtp: for comparison, a plain nodemailer loop that composes each message as the sender does, sendMail(imipMail(row))`);
    const composing = await plainLoop(sink, composed.inputs);
    log(`  ${composing.messages} sent in ${seconds(composing.seconds)}: ${(composing.messages / composing.seconds).toFixed(0)} messages/s`);

    const floorAfter = await runFloor('after the sender');

    const sample = Math.min(size.defaultRateSample, total);
    log(`smtp: OutboxSender with the default MMS_SMTP_RATE=${defaultRate}, the first ${sample} messages`);
    files.push(copyOf(source, path.join(workDir, 'smtp-default.sqlite')));
    const slow = await drainWithSender(files[2] as string, sink, defaultRate, sample);
    log(`  ${slow.messages} sent in ${seconds(slow.seconds)}: ${(slow.messages / slow.seconds).toFixed(1)} messages/s`);

    const rateOf = (d: Drained) => d.messages / d.seconds;
    const floorRate = (rateOf(floorBefore) + rateOf(floorAfter)) / 2;
    const row = (what: string, d: Drained, targets: string[], notes: string[]): IoRow => {
      const rate = d.messages / d.seconds;
      return {
        scenario: 'smtp', what, unit: 'messages', items: d.messages, seconds: d.seconds, perSecond: rate, floorPerSecond: floorRate, ratio: rate / floorRate, targets,
        notes: [...notes, ...(d.notSent ? [`${d.notSent} message(s) not Sent (retried or Failed)`] : [])],
        detail: { ...d, floorBefore, floorAfter, composingLoop: composing, composeMs: { imipMail: composed.imipMailMs, build: composed.buildMs }, bytesPerMessage: d.bytes / Math.max(1, d.messages) },
      };
    };
    const fastRatio = fast.messages / fast.seconds / floorRate;
    const servedRatio = served.messages / served.seconds / floorRate;
    return [
      row(`OutboxSender, MMS_SMTP_RATE=${defaultRate} (default)`, slow, [`throttled by the default rate: reaches ${defaultRate}/s: ${yes(slow.messages / slow.seconds >= defaultRate * 0.9)}`], [
        `the default MMS_SMTP_RATE=${defaultRate} spaces messages ${1000 / defaultRate} ms apart: the rate is the setting, not the sender's limit; timed over the first ${slow.messages} messages; engine/floor is against the unthrottled floor`,
      ]),
      row(`OutboxSender, unthrottled (MMS_SMTP_RATE=${unthrottled})`, fast, [`engine/floor>=${TARGET_RATIO}: ${yes(fastRatio >= TARGET_RATIO)}`], [
        `${total} messages (${size.meetings} meetings x ${EXTERNAL_PER_MEETING} external attendees) from the outbox to a receiving smtp-server in another process (plain, loopback); from start() until the last one is recorded Sent, after an untimed run of ${Math.ceil(total * WARM_UP_SHARE)} messages on a copy of its own (its code warmed up as the floor's was); ${(fast.bytes / Math.max(1, fast.messages)).toFixed(0)} bytes a message received`,
        `floor: nodemailer sendMail of the same messages composed beforehand (${(rawBytes / raws.length).toFixed(0)} bytes a message composed, ${(floorBefore.bytes / Math.max(1, floorBefore.messages)).toFixed(0)} received), one at a time, pooled transport with 1 connection as the sender's; after an untimed warm-up run of all of them, and again after the sender rows (${rateOf(floorBefore).toFixed(0)} and ${rateOf(floorAfter).toFixed(0)} messages/s), the mean is the floor`,
        `a plain loop that composes each message as the sender does (nodemailer sendMail(imipMail(row)), no database): ${(composing.messages / composing.seconds).toFixed(0)} messages/s; engine / that loop = ${(fast.messages / fast.seconds / (composing.messages / composing.seconds)).toFixed(3)}: the rest of the gap is the sender's own work (claims, a commit per run of outcomes, its events)`,
        `composing, which the sender does for each message and the floor did beforehand: imipMail ${perMessage(composed.imipMailMs)} ms + MailComposer build ${perMessage(composed.buildMs)} ms a message (one after the other, in this process)`,
      ]),
      row(`mms serve process, unthrottled (MMS_SMTP_RATE=${unthrottled})`, served, [`engine/floor>=${TARGET_RATIO}: ${yes(servedRatio >= TARGET_RATIO)}`], [
        `mms serve (node dist/cli/main.js serve, as bin/mms.js runs it) with MMS_SMTP_URL (the sink) beside the migration worker; steady state: the rate over its own Sent stamps after the first ${WARM_UP_SHARE * 100} % of the messages (n-1 intervals), so the process's start-up and cold code are not in it; over all ${whole.messages} messages, first to last stamp: ${(whole.messages / whole.seconds).toFixed(0)} messages/s`,
      ]),
    ];
  } finally {
    await sink.stop();
    if (!keep) for (const f of [source, ...files]) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(f + suffix, { force: true });
  }
}
