import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REQUIRE_ALL } from './databases.js';

/** Debian's Radicale (package `radicale`); `.ci/run` installs it. */
export const RADICALE_BIN = process.env.MMS_RADICALE_BIN || '/usr/bin/radicale';

/** Why Radicale tests are skipped (undefined when Radicale is there); with MMS_REQUIRE_ALL=1 a missing one fails. */
export const RADICALE_SKIP: string | undefined = fs.existsSync(RADICALE_BIN)
  ? undefined
  : `Radicale is not installed at ${RADICALE_BIN}; install the Debian package radicale (apt-get install radicale) or set MMS_RADICALE_BIN`;
if (RADICALE_SKIP && REQUIRE_ALL) throw new Error(`MMS_REQUIRE_ALL=1 but ${RADICALE_SKIP}`);

/** A user account on the test server: `htpasswd_encryption = plain`, so no extra package is needed. */
export interface RadicaleUser {
  readonly name: string;
  readonly password: string;
}

/**
 * Radicale's rights backends: `owner_only` (each account sees only its own collections) or `owner_write` (every
 * account reads all, writes its own: a service account with delegated read access).
 */
export type RadicaleRights = 'owner_only' | 'owner_write';

/** A free loopback TCP port: bind to port 0, read it back, release it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A Radicale server of the test's own: a temp folder holds its config, htpasswd file and storage; it listens on a
 * free loopback port. `stop`/`kill` end the process and keep the storage; `start` brings it back on the same port.
 */
export class RadicaleServer {
  readonly dir: string;
  readonly port: number;
  readonly users: RadicaleUser[];
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(dir: string, port: number, users: RadicaleUser[], private readonly rights: RadicaleRights) {
    this.dir = dir;
    this.port = port;
    this.users = users;
  }

  /** Creates the folder, writes config and htpasswd, and starts the server (resolves once it answers HTTP). */
  static async start(users: RadicaleUser[], opts: { rights?: RadicaleRights } = {}): Promise<RadicaleServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-radicale-'));
    const server = new RadicaleServer(dir, await freePort(), users, opts.rights ?? 'owner_only');
    server.writeFiles();
    await server.start();
    return server;
  }

  /** `http://127.0.0.1:PORT` without a trailing slash. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The server's log so far (stdout and stderr), for failure messages. */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  private writeFiles(): void {
    fs.writeFileSync(path.join(this.dir, 'users'), this.users.map((u) => `${u.name}:${u.password}\n`).join(''));
    fs.mkdirSync(path.join(this.dir, 'collections'), { recursive: true });
    // auth delay 0: a wrong password is answered at once (the default sleeps a second per failure).
    fs.writeFileSync(path.join(this.dir, 'config'), [
      '[server]', `hosts = 127.0.0.1:${this.port}`, '',
      '[auth]', 'type = htpasswd', `htpasswd_filename = ${path.join(this.dir, 'users')}`, 'htpasswd_encryption = plain', 'delay = 0', '',
      '[rights]', `type = ${this.rights}`, '',
      '[storage]', `filesystem_folder = ${path.join(this.dir, 'collections')}`, '',
      '[logging]', 'level = warning', '',
    ].join('\n'));
  }

  /**
   * Starts the process and waits until it answers an HTTP request. The wait is bounded by progress: it ends with an
   * error as soon as the process exits, and otherwise polls until it answers (a 30 s ceiling only guards a hang).
   */
  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(RADICALE_BIN, ['--config', path.join(this.dir, 'config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let exited: string | undefined;
    child.stdout!.on('data', (d: Buffer) => { this.output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { this.output += d.toString(); });
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      if (this.child === child) this.child = undefined;
    });
    child.once('error', (err) => { exited = err.message; });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`Radicale on port ${this.port} ${exited} before answering: ${this.output.trim().slice(-2000)}`);
      try {
        const res = await fetch(`${this.url}/`, { method: 'OPTIONS', signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`Radicale on port ${this.port} did not answer within 30 s: ${this.output.trim().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Ends the process with `signal` and resolves once it has exited; the storage stays. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
    this.child = undefined;
  }

  /** SIGKILL: a crash of the calendar server. */
  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and deletes its folder. */
  async dispose(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private user(name: string): RadicaleUser {
    const u = this.users.find((x) => x.name === name);
    if (!u) throw new Error(`no Radicale user ${name} in this test server`);
    return u;
  }

  /** Basic authorization header value for a user of this server. */
  authOf(name: string): string {
    const u = this.user(name);
    return `Basic ${Buffer.from(`${u.name}:${u.password}`).toString('base64')}`;
  }

  /**
   * Creates a calendar `/<user>/<calendar>/` for VEVENTs with MKCALENDAR (RFC 4791 §5.3.1), as its owner.
   * Returns the calendar's absolute URL (with trailing slash).
   */
  async makeCalendar(userName: string, calendar: string, displayName = calendar, components: string[] = ['VEVENT']): Promise<string> {
    const url = `${this.url}/${encodeURIComponent(userName)}/${encodeURIComponent(calendar)}/`;
    const body = `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>${displayName.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</D:displayname>
    <C:supported-calendar-component-set>${components.map((c) => `<C:comp name="${c}"/>`).join('')}</C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>`;
    const res = await fetch(url, { method: 'MKCALENDAR', headers: { authorization: this.authOf(userName), 'content-type': 'application/xml; charset=utf-8' }, body });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`MKCALENDAR ${url} answered ${res.status}: ${text.slice(0, 500)}`);
    return url;
  }
}
