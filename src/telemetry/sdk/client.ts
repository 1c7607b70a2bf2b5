// The telemetry client: records events, keeps them in a bounded queue, and sends them in batches — when a batch is
// full, every flushIntervalMs, on flush() and on close(). What the server refuses for good is counted and never sent
// again; what could not be sent (the network, a 5xx, a 429, the rate limit) waits and goes again after a backoff,
// as long as the client lives, and close() hands it back for a later run. Nothing is dropped silently: the queue's
// overflow, events the config forbids and refusals are all in stats() (the event schemas have no field to report
// them in, so they are not sent). Error reports carry the user id in clear, so they are queued only once a config
// said ErrorReporting true: before that they wait aside and are never handed back by close() (an app would spool a
// clear id of a user who never opted in). Delivery is at least once: an answer lost after the server stored a batch
// means the batch is sent again.
import type { CensusInfo, ClientConfig, ErrorEvent, ErrorInfo, PendingEvent, TelemetryEvent, TelemetryKind, UsageCounts } from './events.js';
import { fileDeviceId, hashUserId, isDeviceId, localStorageDeviceId, resolveDeviceId, type DeviceIdStore } from './identity.js';
import { backoffMs, getConfig, postBatch, type BatchAnswer, type Endpoint, type FetchLike } from './transport.js';

/** The server's most events per request (src/telemetry/events.ts MAX_EVENTS_PER_BATCH); its config may lower it. */
const SERVER_MAX_BATCH = 500;
/** Under the server's 512 KiB default body limit with room to spare. */
const MAX_BATCH_BYTES = 256 * 1024;
/** Error reports kept aside while the config is unknown, at most (beyond it they are counted as dropped). */
const MAX_HELD_ERRORS = 100;
/** setTimeout's ceiling (2^31-1 ms): a longer delay fires at once, with a TimeoutOverflowWarning. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const encoder = new TextEncoder();

export interface TelemetryClientOptions {
  /** The MMS service, e.g. https://mms.contoso.com. */
  readonly serverUrl: string;
  /** The tenant's ingestion key (New-MmsTelemetryIngestionKey). Leave out only with `headers` that authenticate otherwise. */
  readonly ingestionKey?: string;
  /** More request headers, asked for on every request (the admin center's relay: its CSRF token). */
  readonly headers?: () => Record<string, string>;
  readonly appName: string;
  readonly appVersion: string;
  /** A DeviceId GUID to use as is; otherwise one is kept in `deviceIdStore`. */
  readonly deviceId?: string;
  /** A file path (Node), 'localStorage' (browser) or a store; default: localStorage in a browser, none (an id per run) elsewhere. */
  readonly deviceIdStore?: string | 'localStorage' | DeviceIdStore;
  /** The user, in clear: census gets its SHA-256, error reports (opted-in users only) the id itself. */
  readonly userId?: string;
  /** The pool the client is connected to: decides Meetings app / join launcher events (MeetingUxEnableTelemetry). */
  readonly pool?: string;
  /** Events to send first: what close() handed back in an earlier run. */
  readonly pending?: readonly PendingEvent[];
  /** Most events kept waiting (default 1000); beyond it the oldest are dropped and counted. */
  readonly maxQueue?: number;
  /** Most events per request (default and ceiling: the server's 500). */
  readonly maxBatch?: number;
  /** Sends what waits this often (default 30 s; 0: only on a full batch, flush() and close()). */
  readonly flushIntervalMs?: number;
  /** Reads POST /telemetry/v1/config again when older than this (default 5 min). */
  readonly configRefreshMs?: number;
  /** Backoff after a failed send: base and ceiling (default 1 s, 5 min), full jitter; a server's Retry-After is capped at the ceiling too. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Limit of one request (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** The clock (tests move it with a server's clock); default Date.now. */
  readonly now?: () => number;
  /** The HTTP client (default: the global fetch). */
  readonly fetch?: FetchLike;
  /** Called with one line when something could not be sent (for a debug log); never throws into the app. */
  readonly onError?: (message: string) => void;
}

export interface TelemetryStats {
  /** Waiting to be sent. */
  readonly queued: number;
  readonly accepted: number;
  /** Refused by the server for good, by reason (Schema, DisableAutomaticSendTracing, …): never sent again. */
  readonly refused: Readonly<Record<string, number>>;
  /** Dropped because the queue was full (the oldest first). */
  readonly dropped: number;
  /** Not sent because the server's config says it would be refused (usage off, no opt-in, pool switch off). */
  readonly suppressed: number;
  /** Requests made (batches and config reads). */
  readonly requests: number;
  /** Sends that failed and wait for the backoff. */
  readonly retries: number;
  /** Epoch ms before which nothing is sent (a backoff or the server's Retry-After), if any. */
  readonly backoffUntil?: number;
  readonly lastError?: string;
  /** The server's config as last read. */
  readonly config?: ClientConfig;
}

export class TelemetryClient {
  private queue: PendingEvent[];
  /** Error reports recorded before a config said ErrorReporting true: sent only once one does. */
  private held: PendingEvent[] = [];
  private readonly maxQueue: number;
  private readonly now: () => number;
  private readonly abort = new AbortController();
  private readonly endpoint: Endpoint;
  private readonly identity: Promise<{ deviceId: string; userHash?: string; hashError?: string }>;
  private config?: { value: ClientConfig; at: number };
  private counts = { accepted: 0, dropped: 0, suppressed: 0, requests: 0, retries: 0 };
  private readonly refused: Record<string, number> = {};
  private attempt = 0;
  /** After a 413: most events per batch from then on (halved again on each further 413). */
  private splitBelow?: number;
  private backoffUntil?: number;
  private lastError?: string;
  private sending?: Promise<void>;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private readonly interval?: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private readonly opts: TelemetryClientOptions) {
    if (opts.deviceId !== undefined && !isDeviceId(opts.deviceId)) throw new Error(`deviceId must be a GUID such as 5E872200-F546-4CCD-8F23-AF5F507AA2DD, not ${JSON.stringify(opts.deviceId)}`);
    this.maxQueue = Math.max(1, opts.maxQueue ?? 1000);
    this.now = opts.now ?? Date.now;
    this.queue = [];
    for (const p of opts.pending ?? []) this.admit(p);
    this.endpoint = {
      serverUrl: opts.serverUrl,
      headers: () => ({ ...(opts.ingestionKey ? { authorization: `MmsTelemetry ${opts.ingestionKey}` } : {}), ...opts.headers?.() }),
      timeoutMs: opts.requestTimeoutMs ?? 10_000,
      signal: this.abort.signal,
      fetch: opts.fetch ?? ((u, init) => globalThis.fetch(u, init)),
    };
    this.identity = (async () => {
      const deviceId = opts.deviceId?.toUpperCase() ?? (await resolveDeviceId(storeOf(opts.deviceIdStore)));
      if (opts.userId === undefined) return { deviceId };
      try {
        return { deviceId, userHash: await hashUserId(opts.userId) };
      } catch (err) {
        return { deviceId, hashError: (err as Error).message };
      }
    })();
    const every = opts.flushIntervalMs ?? 30_000;
    if (every > 0) this.interval = unref(setInterval(() => void this.flush(), every));
  }

  /** The DeviceId this client sends (generated and stored the first time). */
  async deviceId(): Promise<string> {
    return (await this.identity).deviceId;
  }

  /** A census event (always collected): who uses which app on what. Needs `userId`. */
  async census(info: CensusInfo): Promise<void> {
    const id = await this.identity;
    if (id.userHash === undefined) throw new Error(id.hashError ?? 'a census event needs the user: create the client with userId');
    this.record('census', { ...(await this.common()), SignInAttempts: 0, SignInFailures: 0, ...info, UserId: id.userHash });
  }

  /** A usage event: counts and features used (FeaturesUsed: { 'Get-MmsUser': 1 }). Never carries a user id. */
  async usage(counts: UsageCounts): Promise<void> {
    this.record('usage', { ...(await this.common()), ...(this.opts.pool ? { Pool: this.opts.pool } : {}), ...counts });
  }

  /** An error report: sent only when the server's config says this user opted in (or the pool allows it, Meetings app). */
  async error(info: ErrorInfo): Promise<void> {
    const event: ErrorEvent = { ...(await this.common()), ...(this.opts.pool ? { Pool: this.opts.pool } : {}), ...info };
    if (this.opts.userId !== undefined && !/^(skypemeetingsapp|joinlauncher)$/i.test(this.opts.appName)) event.UserId = this.opts.userId;
    this.record('error', event);
  }

  /**
   * Sends what waits, now, unless a backoff is in force (then the retry timer sends it). Resolves when this round is
   * over; never rejects — what failed stays queued and is in stats().
   */
  async flush(): Promise<void> {
    try {
      while (this.sending) await this.sending;
      if ((this.queue.length === 0 && this.held.length === 0) || this.abort.signal.aborted) return;
      if (this.backoffUntil !== undefined && this.now() < this.backoffUntil) return;
      this.sending = this.sendAll().finally(() => (this.sending = undefined));
      await this.sending;
    } catch (err) {
      // flush() runs from timers as `void this.flush()`: a rejection there would crash a Node app. Whatever threw
      // (a malformed answer, a store), the events stay queued and are sent again after the backoff.
      this.fail(`sending failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  /**
   * Stops the timers, sends what waits within `timeoutMs` (default 2 s; requests still running then are cancelled)
   * and returns the events that could not be sent, for the app to keep (e.g. in a file) and pass as `pending` later.
   */
  async close(timeoutMs = 2_000): Promise<PendingEvent[]> {
    this.closed = true;
    if (this.interval !== undefined) clearInterval(this.interval);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const limit = unref(setTimeout(() => this.abort.abort(new Error('close() ran out of time')), timeoutMs));
    try {
      await this.flush();
    } finally {
      clearTimeout(limit);
      this.abort.abort(new Error('closed'));
    }
    // Error reports no config confirmed are not handed back: they would be kept with a clear user id.
    this.counts.suppressed += this.held.length;
    this.held = [];
    return this.queue.splice(0);
  }

  stats(): TelemetryStats {
    return {
      ...this.counts, queued: this.queue.length + this.held.length, refused: { ...this.refused },
      ...(this.backoffUntil !== undefined ? { backoffUntil: this.backoffUntil } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.config ? { config: this.config.value } : {}),
    };
  }

  private async common() {
    return { Time: new Date(this.now()).toISOString(), AppName: this.opts.appName, AppVersion: this.opts.appVersion, DeviceId: (await this.identity).deviceId };
  }

  private record(kind: TelemetryKind, event: TelemetryEvent): void {
    if (this.config && !allowed(this.config.value, kind)) {
      this.counts.suppressed++;
      return;
    }
    this.admit({ kind, event });
    if (this.queue.filter((p) => p.kind === kind).length >= this.batchLimit()) void this.flush();
  }

  /** Queues an event — an error report only under a config that allows it; else aside until one is read. */
  private admit(p: PendingEvent): void {
    if (p.kind !== 'error' || this.config?.value.ErrorReporting === true) return this.enqueue(p);
    this.held.push(p);
    if (this.held.length > MAX_HELD_ERRORS) {
      this.held.shift();
      this.counts.dropped++;
    }
  }

  /** A config was read: the error reports kept aside go to the queue if it allows them, else are counted. */
  private release(config: ClientConfig): void {
    const held = this.held;
    this.held = [];
    if (config.ErrorReporting) for (const p of held) this.enqueue(p);
    else this.counts.suppressed += held.length;
  }

  private enqueue(p: PendingEvent): void {
    this.queue.push(p);
    if (this.queue.length > this.maxQueue) {
      this.queue.shift();
      this.counts.dropped++;
    }
  }

  private batchLimit(): number {
    return Math.max(1, Math.min(this.opts.maxBatch ?? SERVER_MAX_BATCH, this.config?.value.MaxEventsPerBatch ?? SERVER_MAX_BATCH));
  }

  private fail(why: string, serverAsked?: number): void {
    this.lastError = why;
    this.counts.retries++;
    this.attempt++;
    const delay = Math.min(MAX_TIMER_MS, Math.ceil(backoffMs(this.attempt, this.opts.retryBaseMs ?? 1_000, this.opts.retryMaxMs ?? 300_000, Math.random, serverAsked)));
    this.backoffUntil = this.now() + delay;
    try {
      this.opts.onError?.(`telemetry: ${why}; trying again in ${delay} ms`);
    } catch { /* a logger's failure is not the app's */ }
    this.armRetry(delay);
  }

  /** Sends again once the backoff is over — by the client's clock, which a test may hold still. */
  private armRetry(delay: number): void {
    if (this.closed) return;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = unref(setTimeout(() => {
      this.retryTimer = undefined;
      const left = (this.backoffUntil ?? 0) - this.now();
      if (left > 0) this.armRetry(left);
      else void this.flush();
    }, Math.min(MAX_TIMER_MS, Math.max(0, delay))));
  }

  /** The server's config, read again when stale; undefined (and a backoff) when it cannot be had. */
  private async currentConfig(): Promise<ClientConfig | undefined> {
    if (this.config && this.now() - this.config.at < (this.opts.configRefreshMs ?? 300_000)) return this.config.value;
    const id = await this.identity;
    this.counts.requests++;
    try {
      const value = await getConfig(this.endpoint, { AppName: this.opts.appName, Pool: this.opts.pool, UserId: id.userHash });
      this.config = { value, at: this.now() };
      this.release(value);
      return value;
    } catch (err) {
      this.fail((err as Error).message);
      return undefined;
    }
  }

  private async sendAll(): Promise<void> {
    while ((this.queue.length > 0 || this.held.length > 0) && !this.abort.signal.aborted) {
      const config = await this.currentConfig();
      if (!config) return;
      this.release(config);
      // What the config forbids is not sent (it would be refused): counted instead.
      const before = this.queue.length;
      this.queue = this.queue.filter((p) => allowed(config, p.kind));
      this.counts.suppressed += before - this.queue.length;
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      const answer = await postBatch(this.endpoint, batch[0]!.kind, batch.map((p) => p.event), this.now());
      this.counts.requests++;
      if (!this.settle(batch, answer)) return;
    }
  }

  /** The oldest events of one kind, up to the batch limits. */
  private nextBatch(): PendingEvent[] {
    const kind = this.queue[0]?.kind;
    const batch: PendingEvent[] = [];
    let bytes = 0;
    for (const p of this.queue) {
      if (p.kind !== kind) continue;
      const size = encoder.encode(JSON.stringify(p.event)).length + 1;
      if (batch.length > 0 && (batch.length >= Math.min(this.batchLimit(), this.splitBelow ?? Infinity) || bytes + size > MAX_BATCH_BYTES)) break;
      batch.push(p);
      bytes += size;
    }
    return batch;
  }

  /** Applies a batch's answer to the queue; false when sending must stop for a backoff. */
  private settle(batch: PendingEvent[], answer: BatchAnswer): boolean {
    const sent = new Set(batch);
    if (answer.kind === 'retry') {
      this.fail(answer.why, answer.retryAfterMs);
      return false;
    }
    if (answer.kind === 'tooLarge' && batch.length > 1) {
      // 413: the server's body limit is below ours. The first half goes next (the rest after it); nothing is lost.
      this.splitBelow = Math.max(1, Math.floor(batch.length / 2));
      return true;
    }
    if (answer.kind === 'refusedAll' || answer.kind === 'tooLarge') {
      this.refused.Request = (this.refused.Request ?? 0) + batch.length;
      this.lastError = answer.why;
    } else {
      this.counts.accepted += answer.accepted.length;
      for (const r of answer.refused) this.refused[r.reason] = (this.refused[r.reason] ?? 0) + 1;
      // A switch turned off since the config was read: read it again before the next batch.
      if (answer.refused.some((r) => r.reason !== 'Schema' && r.reason !== 'UserIdentifierNotAllowed')) this.config = undefined;
      for (const i of answer.again) sent.delete(batch[i]!);
    }
    this.queue = this.queue.filter((p) => !sent.has(p));
    if (answer.kind === 'results' && answer.again.length > 0) {
      this.fail('the server\'s per-device rate limit refused some events');
      return false;
    }
    this.attempt = 0;
    this.lastError = undefined;
    return true;
  }
}

/** Whether the server's config lets `kind` through (census: always). */
function allowed(config: ClientConfig, kind: TelemetryKind): boolean {
  return kind === 'census' ? config.Census !== false : kind === 'usage' ? config.Usage : config.ErrorReporting;
}

function storeOf(store: TelemetryClientOptions['deviceIdStore']): DeviceIdStore | undefined {
  if (store === undefined) return (globalThis as { localStorage?: unknown }).localStorage ? localStorageDeviceId() : undefined;
  if (store === 'localStorage') return localStorageDeviceId();
  return typeof store === 'string' ? fileDeviceId(store) : store;
}

/** A timer that does not keep a Node process alive (browsers have no unref). */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
