// A loopback HTTP proxy in front of a real calendar server, for the failures a server cannot be asked to make on
// cue: a 429 or 503 with Retry-After, a 500, and a DAV header that announces server-side scheduling. Every request
// it does not answer itself goes to the server unchanged (method, headers, body) and the answer comes back
// unchanged, except where `davHeader` adds to the DAV header.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export class DavProxy {
  /** Answers the proxy gives instead of the server: called per request; undefined lets the request through. */
  intercept: (req: { method: string; url: string }) => ProxyAnswer | undefined = () => undefined;
  /** Tokens added to the DAV header of every answer that has one (e.g. `calendar-auto-schedule`). */
  davTokens: string[] = [];
  /** Requests seen, by method (counted before interception). */
  readonly seen = new Map<string, number>();
  private constructor(private readonly server: http.Server, private readonly target: string) {}

  static async start(target: string): Promise<DavProxy> {
    const server = http.createServer();
    const proxy = new DavProxy(server, target.replace(/\/+$/, ''));
    server.on('request', (req, res) => void proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(method: string): number {
    return this.seen.get(method) ?? 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const method = req.method ?? 'GET';
    this.seen.set(method, (this.seen.get(method) ?? 0) + 1);
    const canned = this.intercept({ method, url: req.url ?? '/' });
    if (canned) {
      res.writeHead(canned.status, canned.headers ?? {});
      res.end(canned.body ?? '');
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || k === 'host' || k === 'connection' || k === 'content-length') continue;
      headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    try {
      const up = await fetch(`${this.target}${req.url}`, { method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined, redirect: 'manual' });
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-encoding') out[k] = v;
      });
      if (out.dav && this.davTokens.length) out.dav = [out.dav, ...this.davTokens].join(', ');
      // Relative redirects stay relative; absolute ones to the server are pointed back at the proxy.
      if (out.location) out.location = out.location.replace(this.target, this.url);
      const body = Buffer.from(await up.arrayBuffer());
      res.writeHead(up.status, out);
      res.end(body);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
