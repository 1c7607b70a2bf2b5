// The SDK's HTTP side: one request per batch or config read, and what its answer means for the events in it —
// accepted, refused for good (counted, never sent again), or to be sent again later (the network, a 5xx, a 429,
// an event refused only for the rate limit).
import type { ClientConfig, TelemetryEvent, TelemetryKind } from './events.js';

export interface Endpoint {
  /** The service's base URL: `${serverUrl}/telemetry/v1/…` is called. */
  readonly serverUrl: string;
  /** Headers of every request (the ingestion key, or a session's CSRF token for the admin center's relay). */
  readonly headers: () => Record<string, string>;
  /** Limit of one request, in ms. */
  readonly timeoutMs: number;
  /** Cancels requests in flight (close() past its wait). */
  readonly signal: AbortSignal;
  readonly fetch: FetchLike;
}

/** What the SDK reads of an answer: a fetch Response has it all. */
export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The request the SDK makes: a subset of fetch's RequestInit. */
export interface RequestLike {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
  readonly keepalive?: boolean;
}

/** The part of fetch the SDK uses: an app may give its own (the mms CLI does, see src/cli/cli-telemetry.ts). */
export type FetchLike = (url: string, init: RequestLike) => Promise<ResponseLike>;

/** What became of each event of a batch; `retryAfterMs` when the server said when to come back (429). */
export type BatchAnswer =
  | { readonly kind: 'results'; readonly accepted: number[]; readonly refused: Array<{ index: number; reason: string }>; readonly again: number[] }
  | { readonly kind: 'retry'; readonly why: string; readonly retryAfterMs?: number }
  | { readonly kind: 'refusedAll'; readonly why: string }
  /** 413: the body was over the server's limit; a smaller batch may pass. */
  | { readonly kind: 'tooLarge'; readonly why: string };

const url = (e: Endpoint, path: string) => `${e.serverUrl.replace(/\/+$/, '')}/telemetry/v1/${path}`;

async function request(e: Endpoint, path: string, init: Omit<RequestLike, 'signal' | 'headers'> & { headers?: Record<string, string> }): Promise<ResponseLike> {
  const signal = AbortSignal.any([e.signal, AbortSignal.timeout(e.timeoutMs)]);
  return e.fetch(url(e, path), { ...init, signal, headers: { ...e.headers(), ...init.headers } });
}

const describe = (err: unknown): string => {
  // A string code (ECONNREFUSED); a DOMException's code is a number (23 for a timeout) that says less than its message.
  const cause = (err as { cause?: { code?: unknown; message?: string } }).cause;
  return (typeof cause?.code === 'string' ? cause.code : undefined) ?? cause?.message ?? (err as Error).message ?? String(err);
};

function isResult(r: unknown, size: number): boolean {
  if (typeof r !== 'object' || r === null) return false;
  const index = (r as { Index?: unknown }).Index;
  return typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < size;
}

/** Retry-After as ms: seconds, or an HTTP date. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** Posts one batch of `kind` events. Never throws: every failure is an answer. */
export async function postBatch(e: Endpoint, kind: TelemetryKind, events: readonly TelemetryEvent[], now: number): Promise<BatchAnswer> {
  let res: ResponseLike;
  try {
    // keepalive lets a browser finish the request after the page is left (bodies under its 64 KiB limit).
    const body = JSON.stringify({ Events: events });
    res = await request(e, kind, { method: 'POST', body, headers: { 'content-type': 'application/json' }, keepalive: new TextEncoder().encode(body).length < 60_000 });
  } catch (err) {
    return { kind: 'retry', why: `the request failed: ${describe(err)}` };
  }
  const text = await res.text().catch(() => '');
  if (res.status === 200 || res.status === 429) {
    let outcome: { Results?: unknown } | undefined;
    try {
      outcome = JSON.parse(text) as typeof outcome;
    } catch {
      outcome = undefined;
    }
    if (res.status === 429) return { kind: 'retry', why: 'the server asked to slow down (429)', retryAfterMs: retryAfterMs(res.headers.get('retry-after'), now) };
    // Each result must name one of the batch's events (an object with its Index): anything else is not an MMS
    // answer (a proxy's page, a truncated body) and the batch goes again, rather than a throw in the client.
    const results = outcome?.Results;
    if (!Array.isArray(results) || !results.every((r) => isResult(r, events.length))) return { kind: 'retry', why: 'the server answered 200 without valid per-event results' };
    const accepted: number[] = [];
    const refused: Array<{ index: number; reason: string }> = [];
    const again: number[] = [];
    for (const r of results as Array<{ Index: number; Status: unknown; Reason?: unknown }>) {
      if (r.Status === 'Accepted') accepted.push(r.Index);
      else if (r.Reason === 'RateLimited') again.push(r.Index);
      else refused.push({ index: r.Index, reason: typeof r.Reason === 'string' ? r.Reason : 'Unknown' });
    }
    return { kind: 'results', accepted, refused, again };
  }
  if (res.status === 413) return { kind: 'tooLarge', why: `HTTP 413: ${text.slice(0, 200)}` };
  // A body the server will never take (400 malformed): sending it again cannot help.
  if (res.status === 400) return { kind: 'refusedAll', why: `HTTP ${res.status}: ${text.slice(0, 200)}` };
  // 5xx, and 401/403 too: a replaced ingestion key or an ended session can be fixed while the events wait.
  return { kind: 'retry', why: `HTTP ${res.status}: ${text.slice(0, 200)}`, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), now) };
}

/**
 * POST /telemetry/v1/config for this client: the user's hash goes in the body, never in a URL (proxies and logs keep
 * URLs; the server refuses a UserId in the query). Throws a one-line reason when it cannot be had.
 */
export async function getConfig(e: Endpoint, query: Record<string, string | undefined>): Promise<ClientConfig> {
  const body: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) body[k] = v;
  let res: ResponseLike;
  try {
    res = await request(e, 'config', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    throw new Error(`the config request failed: ${describe(err)}`);
  }
  if (!res.ok) throw new Error(`the config request answered HTTP ${res.status}: ${(await res.text().catch(() => '')).slice(0, 200)}`);
  let config: unknown;
  try {
    config = JSON.parse(await res.text());
  } catch {
    config = undefined;
  }
  if (typeof config !== 'object' || config === null || typeof (config as ClientConfig).ErrorReporting !== 'boolean') throw new Error('the config request answered without a config');
  return config as ClientConfig;
}

/**
 * Exponential backoff with full jitter (attempt 1, 2, …), at least what the server asked for — but never past maxMs:
 * a Retry-After of days (a misconfigured proxy) would otherwise silence a long-lived client for good.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number, serverAsked?: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.min(maxMs, Math.max(jittered, serverAsked ?? 0));
}
