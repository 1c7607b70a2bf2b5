import { EventEmitter } from 'node:events';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { SmtpSettings } from '../config.js';
import type { Db } from '../store/index.js';
import { claimMail, releaseMail, renewMailLease, settleMails, type ClaimedMail, type MailOutcome } from '../store/outbox-send-repo.js';
import { imipMail, type ImipMessage } from './imip-mail.js';
import { userNoticeMail } from './user-notice.js';
import type { SecretBox } from '../secrets/index.js';
import type { Logger } from '../domain/logger.js';
import { retryDelay, type RetryPolicy } from '../domain/retry.js';

export interface OutboxSenderOptions {
  readonly db: Db;
  readonly smtp: SmtpSettings;
  /** Messages per second to this server (MMS_SMTP_RATE). */
  readonly rate: number;
  readonly logger: Logger;
  readonly leaseMs: number;
  /** How often an idle sender looks for messages. */
  readonly pollMs: number;
  readonly retry: RetryPolicy;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly senderId?: string;
  /** TLS options passed to the connection (a private CA, for example). */
  readonly tlsOptions?: Record<string, unknown>;
  /** Opens the leader PIN sealed in a user notice (MMS_SECRET_KEY or the key file); without it such a notice is Failed. */
  readonly secrets?: SecretBox;
}

/** Emitted after each message's outcome is committed. */
export interface MailSettled {
  readonly id: number;
  readonly state: MailOutcome['state'];
  readonly reply: string;
  readonly attempt: number;
}

/** A sent message whose outcome is not committed yet, and when its send ended (its sent_at). */
interface Unrecorded {
  readonly m: ClaimedMail;
  readonly outcome: MailOutcome;
  readonly at: number;
}

/** At most this many outcomes, or this old, are committed together (the at-least-once window after a crash). */
const RECORD_RUN = 25;
const RECORD_WAIT_MS = 250;

/** The server's reply (or the connection failure) of a failed send, and whether it is permanent (5xx). */
function classify(err: unknown): { permanent: boolean; reply: string } {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string; command?: string };
  // smtp:// requires STARTTLS: a server that does not offer it, or fails the upgrade, gets nothing in plain text.
  // That is the server's setup, not this message's fault, so it is retried like a lost connection.
  if (e.code === 'ETLS' || e.command === 'STARTTLS') {
    const said = e.response ? ` (it answered: ${e.response.trim()})` : e.message ? ` (${e.message})` : '';
    return { permanent: false, reply: `the server did not take STARTTLS${said}; nothing was sent unencrypted: enable STARTTLS on the server, use smtps://, or smtp://…?tls=none for a loopback relay` };
  }
  if (typeof e.responseCode === 'number') {
    return { permanent: e.responseCode >= 500 && e.responseCode < 600, reply: (e.response ?? `${e.responseCode}`).trim() };
  }
  // No reply at all: refused or lost connection, timeout, TLS failure. Worth trying again later.
  return { permanent: false, reply: `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}` };
}

/**
 * How the sender connects (nodemailer's SMTP pool): one connection per sender, kept for up to 1,000 messages.
 * nodemailer's default of 100 meant a new connection, with the server's greeting (and its TLS handshake), every
 * 100 messages: smtp-server pauses 100 ms before its greeting to catch early talkers, as Postfix's postscreen does,
 * which was half the time of a large outbox at loopback speed. 1,000 is Exim's default per-connection limit
 * (smtp_accept_max_per_connection), so common servers never have to refuse the last MAIL FROM of a connection.
 * Exported so that the bench's floor connects the same way.
 */
export function smtpTransportOptions(s: SmtpSettings, leaseMs: number, tls?: Record<string, unknown>) {
  return {
    host: s.host,
    port: s.port,
    secure: s.tls === 'implicit',
    requireTLS: s.tls === 'starttls',
    ignoreTLS: s.tls === 'none',
    auth: s.auth ? { user: s.auth.user, pass: s.auth.pass } : undefined,
    pool: true as const,
    maxConnections: 1,
    maxMessages: 1000,
    // Shorter than nodemailer's minutes-long defaults: a stuck server must not hold a claimed batch past its lease.
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: Math.max(30_000, Math.min(120_000, leaseMs / 2)),
    tls,
  };
}

/**
 * Sends the outbox over SMTP beside the migration worker: claims Queued messages under a lease (two senders never
 * hold one message), sends each as an RFC 6047 message at most `rate` per second, and records Sent with the
 * server's 250 reply, Queued for a retry with backoff after a 4xx or a lost connection, or Failed with the
 * server's 5xx reply (or after the last attempt). Never throws from its loop: errors go to the log and the row.
 * At-least-once: a sender killed after the server's 250 and before its commit leaves the message Sending; after
 * the lease it is sent again, under the same Message-ID.
 */
export class OutboxSender extends EventEmitter {
  readonly id: string;
  /** Made by prepare(): nodemailer is imported only by a process that sends (every `mms` command loads this module). */
  private transport: Transporter | undefined;
  private readonly now: () => number;
  private stopping = false;
  private wake: () => void = () => undefined;
  private nextSendAt = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: OutboxSenderOptions) {
    super();
    this.id = opts.senderId ?? `${os.hostname()}:${process.pid}:smtp:${randomUUID().slice(0, 8)}`;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Loads the SMTP client and makes its connection pool (nothing is connected or sent yet); start() does it when it
   * was not done before. `mms serve` awaits it before its worker starts, so an install that cannot load the client
   * fails the service at once rather than beside a running worker.
   */
  async prepare(): Promise<Transporter> {
    if (!this.transport) {
      const { default: nodemailer } = await import('nodemailer');
      this.transport ??= nodemailer.createTransport(smtpTransportOptions(this.opts.smtp, this.opts.leaseMs, this.opts.tlsOptions));
    }
    return this.transport;
  }

  /** Runs until {@link stop}; resolves when the message in hand is recorded and the connection closed. */
  start(): Promise<void> {
    this.running ??= this.prepare().then((transport) => this.loop(transport)).finally(() => this.transport?.close());
    return this.running;
  }

  /** Stops claiming; the message being sent is finished and recorded, the rest of the batch is given back. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.running;
  }

  private async loop(transport: Transporter): Promise<void> {
    const { db, logger } = this.opts;
    logger.info({ sender: this.id, smtp: this.opts.smtp.display, rate: this.opts.rate }, 'outbox sender running');
    // One claim holds about a second of sending at the rate limit (at least one message).
    const batchSize = Math.max(1, Math.min(100, Math.ceil(this.opts.rate)));
    while (!this.stopping) {
      let batch: ClaimedMail[];
      try {
        batch = await claimMail(db, this.id, this.now(), this.opts.leaseMs, batchSize);
      } catch (err) {
        logger.error({ sender: this.id, err: String(err) }, 'outbox sender could not claim messages; trying again');
        await this.idle(this.opts.pollMs);
        continue;
      }
      if (!batch.length) {
        this.emit('idle');
        await this.idle(this.opts.pollMs);
        continue;
      }
      await this.sendBatch(transport, batch);
    }
    logger.info({ sender: this.id }, 'outbox sender stopped');
  }

  /**
   * Sends a claimed batch one message after the other. While a message is on the wire (the server's replies are
   * waited for) the sender composes the next one and records the ones before it, a run of them in one transaction:
   * unthrottled, the connection seldom waits for this process's own work. A run is recorded when it reaches
   * RECORD_RUN messages or its first is RECORD_WAIT_MS old, before the sender waits for its rate, when it stops
   * (so a stop finishes and records what is in hand and gives back the rest) and at the end of the batch. A
   * sender that dies with a run unrecorded sends it again after the lease (SMTP's at-least-once window, under the
   * same Message-IDs), as it did for the one message it had in hand.
   */
  private async sendBatch(transport: Transporter, batch: ClaimedMail[]): Promise<void> {
    const { db, logger, leaseMs } = this.opts;
    let leaseFrom = this.now();
    const run: Unrecorded[] = [];
    let composed: ImipMessage | { error: string } | undefined;
    try {
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i] as ClaimedMail;
        composed ??= this.compose(m);
        if (run.length && (this.stopping || this.nextSendAt > performance.now())) await this.record(run.splice(0));
        if (!this.stopping) await this.waitForRate();
        if (this.stopping) {
          await this.giveBack(batch.slice(i));
          return;
        }
        if (this.now() - leaseFrom > leaseMs / 2) {
          await renewMailLease(db, [...run.map((x) => x.m.id), ...batch.slice(i).map((x) => x.id)], this.id, this.now(), leaseMs);
          leaseFrom = this.now();
        }
        const sending = this.send(transport, m, composed);
        // Throttled, the next message is composed during the wait for its turn instead, where it cannot delay this
        // one's bytes (a limiter's spacing is kept to the millisecond).
        const next = batch[i + 1];
        composed = next && this.nextSendAt <= performance.now() + 1 ? this.compose(next) : undefined;
        if (run.length >= RECORD_RUN || (run.length && this.now() - (run[0] as Unrecorded).at >= RECORD_WAIT_MS)) await this.record(run.splice(0));
        run.push({ m, outcome: await sending, at: this.now() });
      }
    } catch (err) {
      // The database failed us (a lease renewal): the rows stay Sending and are taken over when their lease expires.
      logger.error({ sender: this.id, err: String(err) }, 'outbox sender could not renew its lease; the batch is retried after its lease');
    } finally {
      await this.record(run.splice(0));
    }
  }

  /** The claimed messages not sent, back to Queued (a stopping sender). */
  private async giveBack(rest: ClaimedMail[]): Promise<void> {
    try {
      await releaseMail(this.opts.db, rest.map((x) => x.id), this.id);
    } catch (err) {
      this.opts.logger.error({ sender: this.id, err: String(err) }, 'outbox sender could not give back unsent messages; they are retried after their lease');
    }
  }

  /** Commits the outcomes of a run of sends in one transaction, then tells each (never throws: a failed commit leaves the rows to their lease). */
  private async record(run: Unrecorded[]): Promise<void> {
    if (!run.length) return;
    const { db, logger } = this.opts;
    let kept: Set<number>;
    try {
      kept = await settleMails(db, this.id, run.map((x) => ({ id: x.m.id, outcome: x.outcome, at: x.at, notice: x.m.notice !== null })));
    } catch (err) {
      // The database failed us: the rows stay Sending and are taken over when their lease expires.
      for (const { m } of run) logger.error({ sender: this.id, outbox: m.id, err: String(err) }, 'outbox sender could not record a message; it is retried after its lease');
      return;
    }
    for (const { m, outcome } of run) {
      if (!kept.has(m.id)) logger.warn({ sender: this.id, outbox: m.id }, 'outbox message was taken over by another sender after this one\'s lease expired; its record stands');
      const log = { sender: this.id, outbox: m.id, recipient: m.recipient, attempt: m.attempt, state: outcome.state, reply: outcome.reply };
      if (outcome.state === 'Sent') logger.debug?.(log, 'update sent');
      else logger.warn(log, outcome.state === 'Failed' ? 'update not delivered: Failed' : 'update not delivered yet: will retry');
      this.emit('settled', { id: m.id, state: outcome.state, reply: outcome.reply, attempt: m.attempt } satisfies MailSettled);
    }
  }

  /** The message's bytes, or why it cannot be written (a header that cannot be encoded: no retry changes that). */
  private compose(m: ClaimedMail): ImipMessage | { error: string } {
    try {
      // A user notice (issue 12 §3) or an iMIP update: the same claim, lease, rate and settle either way.
      return m.notice !== null ? userNoticeMail({ ...m, notice: m.notice }, this.opts.secrets) : imipMail(m);
    } catch (err) {
      return { error: `the message could not be composed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private async send(transport: Transporter, m: ClaimedMail, composed: ImipMessage | { error: string }): Promise<MailOutcome> {
    if ('error' in composed) return { state: 'Failed', reply: composed.error };
    try {
      const info = await transport.sendMail({ envelope: composed.envelope, raw: composed.raw });
      return { state: 'Sent', reply: String(info.response ?? '').trim() };
    } catch (err) {
      const { permanent, reply } = classify(err);
      if (permanent) return { state: 'Failed', reply };
      if (m.attempt >= this.opts.retry.maxAttempts) return { state: 'Failed', reply: `gave up after ${m.attempt} attempts; last reply: ${reply}` };
      return { state: 'Queued', reply, retryAt: this.now() + retryDelay(this.opts.retry, m.attempt, this.opts.random) };
    }
  }

  /**
   * Spaces sends 1/rate seconds apart (the per-server limit of MMS_SMTP_RATE), on the monotonic clock: a
   * millisecond clock made a send that ended within the millisecond of the one before look early at high rates, so
   * the sender committed its run and slept a timer's millisecond every few messages (a run of 2.9 messages on
   * average at 10,000/s, where 25 were meant).
   */
  private async waitForRate(): Promise<void> {
    const now = performance.now();
    const wait = this.nextSendAt - now;
    this.nextSendAt = Math.max(now, this.nextSendAt) + 1000 / this.opts.rate;
    if (wait > 0) await this.idle(wait);
  }

  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
