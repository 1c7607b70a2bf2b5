import { Limiter } from './limiter.js';
import { childOf, childrenOf, NS, parseXml, type XmlElement } from './xml.js';

/** What went wrong talking to a DAV server, as callers branch on it (the engine: retry or fail; admins: the fix). */
export type DavErrorKind = 'Unauthorized' | 'Forbidden' | 'NotFound' | 'Refused' | 'Tls' | 'Timeout' | 'Network' | 'Http' | 'Protocol';

/** A failed DAV request; the message is one line saying what failed and how to fix it. Never carries a secret. */
export class DavError extends Error {
  constructor(readonly kind: DavErrorKind, message: string, readonly status?: number, readonly url?: string) {
    super(message);
    this.name = 'DavError';
  }

  /** Worth trying again later: the server was away, slow, or failed on its side. */
  get transient(): boolean {
    return this.kind === 'Refused' || this.kind === 'Timeout' || this.kind === 'Network' || (this.kind === 'Http' && (this.status ?? 0) >= 500);
  }
}

/** How to reach one server: credentials stay inside the client (only the Authorization header carries them). */
export interface DavClientOptions {
  readonly userName?: string;
  readonly password?: string;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Shared by every client of one mailbox host, so the host's MaxConcurrency holds across users. */
  readonly limiter?: Limiter;
}

/** Thrown for 429 / 503: the server asked us to come back after `retryAfterMs` (RFC 9110 §10.2.3 Retry-After). */
export class DavBusy extends DavError {
  constructor(message: string, status: number, url: string, readonly retryAfterMs: number) {
    super('Http', message, status, url);
    this.name = 'DavBusy';
  }
}

/** Seconds or an HTTP date (RFC 9110 §10.2.3); a missing or unreadable value counts as `fallbackMs`. */
export function retryAfterMs(value: string | null, now: number, fallbackMs: number): number {
  if (!value) return fallbackMs;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? fallbackMs : Math.max(0, at - now);
}

/** Statuses every object request treats alike: busy (429/503, Retry-After), server failures (5xx), refusals. */
export function checkStatus(res: DavResponse, method: string, ok: (status: number) => boolean): void {
  if (ok(res.status)) return;
  const where = `${method} ${res.url}`;
  if (res.status === 429 || res.status === 503) {
    // Honoured, but within a day: a date years away must not park the request for good.
    const wait = Math.min(retryAfterMs(res.headers.get('retry-after'), Date.now(), 60_000), 86_400_000);
    throw new DavBusy(`${where} answered ${res.status} (busy), retry after ${Math.round(wait / 1000)} s: the server is overloaded or limits requests; lower the host's -MaxConcurrency if this persists`, res.status, res.url, wait);
  }
  if (res.status >= 500) throw new DavError('Http', `${where} answered ${res.status}: the server failed; retried later, check the server's log if it persists`, res.status, res.url);
  throw new DavError('Protocol', `${where} answered ${res.status}${res.text ? ` (${res.text.replace(/\s+/g, ' ').slice(0, 160)})` : ''}: the server refused the request; check that the account may write this calendar and the server accepts the object`, res.status, res.url);
}

/** A DAV answer: status, headers, body text and the URL it finally came from (after redirects). */
export interface DavResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly url: string;
}

/** One `<response>` of a multistatus: the resource's absolute URL and its found (200) properties by `ns|name`. */
export interface DavResource {
  readonly url: string;
  readonly props: ReadonlyMap<string, XmlElement>;
}

export const propKey = (ns: string, name: string): string => `${ns}|${name}`;

const TLS_CODES = /CERT|SSL|TLS|EPROTO|ERR_SSL/i;
const MAX_REDIRECTS = 5;

/**
 * A small WebDAV/CalDAV client on Node's fetch: PROPFIND with Depth, a timeout per request, redirects followed by
 * hand (the method and the credentials are kept, and the final URL resolves relative hrefs), and a concurrency
 * limit shared per host.
 */
export class DavClient {
  private readonly auth: string | undefined;
  private readonly timeoutMs: number;
  private readonly limiter: Limiter;

  constructor(opts: DavClientOptions = {}) {
    this.auth = opts.userName !== undefined ? `Basic ${Buffer.from(`${opts.userName}:${opts.password ?? ''}`).toString('base64')}` : undefined;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.limiter = opts.limiter ?? new Limiter(4);
  }

  /** Sends one request; 401/403/404 and failures to connect become DavErrors, other statuses are returned. */
  async request(method: string, url: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<DavResponse> {
    return this.limiter.run(async () => {
      let target = url;
      for (let hop = 0; ; hop++) {
        const res = await this.once(method, target, init);
        const location = res.headers.get('location');
        if ([301, 302, 307, 308].includes(res.status) && location) {
          if (hop >= MAX_REDIRECTS) throw new DavError('Protocol', `${method} ${url} was redirected more than ${MAX_REDIRECTS} times; check the URL`, res.status, url);
          const next = new URL(location, target);
          // The credentials follow the redirect (a well-known URL often points at another host), but never down to
          // plain http, where the password would travel readable.
          if (this.auth && new URL(target).protocol === 'https:' && next.protocol !== 'https:') {
            throw new DavError('Protocol', `${method} ${target} redirects to ${next.href}, plain http: refused, the password would travel unencrypted; fix the server's redirect or give its https URL`, res.status, target);
          }
          target = next.href;
          continue;
        }
        const where = `${method} ${target}`;
        if (res.status === 401) {
          const fix = this.auth ? 'the user name or password is wrong; fix them with -UserName and -PasswordFile' : 'the server asks for an account; give -UserName and -PasswordFile';
          throw new DavError('Unauthorized', `${where} answered 401 Unauthorized: ${fix}`, 401, target);
        }
        if (res.status === 403) throw new DavError('Forbidden', `${where} answered 403 Forbidden: the account may not read this; grant it access (delegation) or use the mailbox owner's credentials`, 403, target);
        if (res.status === 404) throw new DavError('NotFound', `${where} answered 404 Not Found: nothing at this URL; check the host's -Url, -PrincipalUrlTemplate or the user's -CalendarUrl`, 404, target);
        return { status: res.status, headers: res.headers, text: await res.text(), url: target };
      }
    });
  }

  private async once(method: string, url: string, init: { headers?: Record<string, string>; body?: string }): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.auth) headers.authorization = this.auth;
    if (init.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/xml; charset=utf-8';
    try {
      return await fetch(url, { method, headers, body: init.body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw classify(err, method, url, this.timeoutMs);
    }
  }

  /** PROPFIND (RFC 4918 §9.1) for the given properties; returns each resource with its found properties. */
  async propfind(url: string, depth: '0' | '1', props: readonly (readonly [string, string])[]): Promise<{ resources: DavResource[]; response: DavResponse }> {
    const prefixes = new Map<string, string>([[NS.DAV, 'D'], [NS.CALDAV, 'C'], [NS.CALSERVER, 'CS']]);
    const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:propfind ${[...prefixes].map(([ns, p]) => `xmlns:${p}="${ns}"`).join(' ')}><D:prop>${props.map(([ns, name]) => `<${prefixes.get(ns)}:${name}/>`).join('')}</D:prop></D:propfind>`;
    const response = await this.request('PROPFIND', url, { headers: { depth }, body });
    if (response.status === 429 || response.status >= 500) checkStatus(response, 'PROPFIND', () => false);
    if (response.status !== 207) throw new DavError('Protocol', `PROPFIND ${response.url} answered ${response.status} instead of 207 Multi-Status; is this a WebDAV/CalDAV URL?`, response.status, response.url);
    return { resources: parseMultistatus(response.text, response.url), response };
  }
}

/** Reads a 207 body: every `<response>` with the properties of its 200 propstat, hrefs made absolute. */
export function parseMultistatus(text: string, base: string): DavResource[] {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (err) {
    throw new DavError('Protocol', `${base}: ${(err as Error).message}; is this a WebDAV/CalDAV URL?`, 207, base);
  }
  if (root.ns !== NS.DAV || root.name !== 'multistatus') throw new DavError('Protocol', `${base} answered ${root.name} instead of a DAV multistatus; is this a WebDAV/CalDAV URL?`, 207, base);
  return childrenOf(root, NS.DAV, 'response').map((r) => {
    const href = childOf(r, NS.DAV, 'href')?.text.trim() ?? '';
    const props = new Map<string, XmlElement>();
    for (const ps of childrenOf(r, NS.DAV, 'propstat')) {
      const status = childOf(ps, NS.DAV, 'status')?.text ?? '';
      if (!/\s2\d\d\s/.test(` ${status} `)) continue;
      for (const p of childOf(ps, NS.DAV, 'prop')?.children ?? []) props.set(propKey(p.ns, p.name), p);
    }
    return { url: new URL(href, base).href, props };
  });
}

/** The href inside a property such as current-user-principal, made absolute. */
export function hrefIn(prop: XmlElement | undefined, base: string): string | undefined {
  const href = childOf(prop, NS.DAV, 'href')?.text.trim();
  return href ? new URL(href, base).href : undefined;
}

function classify(err: unknown, method: string, url: string, timeoutMs: number): DavError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const where = `${method} ${url}`;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new DavError('Timeout', `${where} got no answer within ${timeoutMs / 1000} s: the server is slow or unreachable; check the URL and the server, or try again later`, undefined, url);
  }
  const code = e.cause?.code ?? '';
  const detail = e.cause?.message ?? e.message ?? String(err);
  if (code === 'ECONNREFUSED') return new DavError('Refused', `${where}: connection refused: nothing listens at ${new URL(url).host}; check the host's -Url (port) and that the server is running`, undefined, url);
  if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(detail)) {
    return new DavError('Tls', `${where}: TLS failed (${code || detail}): the server's certificate is not trusted for this name; fix the certificate or point NODE_EXTRA_CA_CERTS at its CA`, undefined, url);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new DavError('Network', `${where}: the name ${new URL(url).hostname} does not resolve; check the host's -Url`, undefined, url);
  return new DavError('Network', `${where} failed (${code || detail}); check the host's -Url and the network`, undefined, url);
}
