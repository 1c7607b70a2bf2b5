// A pgbouncer of the test's own (Debian package `pgbouncer`; `.ci/run` installs it) in transaction pool mode in front
// of the machine's PostgreSQL, on a free loopback port, with its config in a temp folder: what an operator puts
// between many `mms serve` processes and one PostgreSQL (docs/SCALING.md).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { REQUIRE_ALL } from './databases.js';
import { freePort } from './radicale.js';

export const PGBOUNCER_BIN = process.env.MMS_PGBOUNCER_BIN || '/usr/sbin/pgbouncer';

/** Why the pgbouncer tests are skipped (undefined when it is installed); with MMS_REQUIRE_ALL=1 a missing one fails. */
export const PGBOUNCER_SKIP: string | undefined = fs.existsSync(PGBOUNCER_BIN)
  ? undefined
  : `pgbouncer is not installed at ${PGBOUNCER_BIN}; install the Debian package pgbouncer (apt-get install pgbouncer) or set MMS_PGBOUNCER_BIN`;
if (PGBOUNCER_SKIP && REQUIRE_ALL) throw new Error(`MMS_REQUIRE_ALL=1 but ${PGBOUNCER_SKIP}`);

export interface PgBouncerOptions {
  /** The PostgreSQL server behind it (host, port and user are taken from this URL). */
  readonly upstream: string;
  /** Server connections per database and user: what every client shares (default_pool_size). */
  readonly poolSize: number;
}

/** One pgbouncer process; `url(db)` is what a client connects to instead of PostgreSQL. */
export class PgBouncer {
  private output = '';

  private constructor(readonly dir: string, readonly port: number, private readonly child: ChildProcess, readonly user: string) {
    child.stdout?.setEncoding('utf8').on('data', (s: string) => { this.output += s; });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { this.output += s; });
  }

  /**
   * Writes the config (auth_type any: every client logs in as the upstream's user, no password file) and starts
   * pgbouncer; resolves once it accepts connections. pgbouncer refuses to run as root, so as root it is started
   * with `-u postgres` (the folder is readable by it).
   */
  static async start(opts: PgBouncerOptions): Promise<PgBouncer> {
    const up = new URL(opts.upstream);
    const user = decodeURIComponent(up.username || 'postgres');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-pgbouncer-'));
    fs.chmodSync(dir, 0o755);
    const port = await freePort();
    const ini = [
      '[databases]',
      `* = host=${up.hostname} port=${up.port || '5432'} user=${user}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = any',
      'pool_mode = transaction',
      `default_pool_size = ${opts.poolSize}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      'max_client_conn = 500',
      `admin_users = ${user}`,
      `stats_users = ${user}`,
      'server_reset_query =',
      'log_connections = 0',
      'log_disconnections = 0',
    ].join('\n');
    const file = path.join(dir, 'pgbouncer.ini');
    fs.writeFileSync(file, `${ini}\n`, { mode: 0o644 });
    const asRoot = process.getuid?.() === 0;
    const child = spawn(PGBOUNCER_BIN, [...(asRoot ? ['-u', 'postgres'] : []), file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const bouncer = new PgBouncer(dir, port, child, user);
    const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`pgbouncer exited (code ${code}, signal ${signal}) before it listened:\n${bouncer.output}`))));
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port), exited]);
    return bouncer;
  }

  /** A PostgreSQL URL of `database` through this pgbouncer. */
  url(database: string): string {
    return `postgres://${encodeURIComponent(this.user)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /** pgbouncer's admin console: `SHOW POOLS`, `SHOW STATS`, … (simple query protocol only). */
  async show<T = Record<string, unknown>>(what: 'POOLS' | 'STATS' | 'CLIENTS' | 'SERVERS'): Promise<T[]> {
    const c = new pg.Client({ connectionString: this.url('pgbouncer') });
    await c.connect();
    try {
      return (await c.query(`SHOW ${what}`)).rows as T[];
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  get log(): string {
    return this.output;
  }

  /** Stops it (SIGINT: pgbouncer's immediate shutdown) and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGINT');
      await gone;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves once something accepts TCP connections on the loopback port (pgbouncer says nothing when it is ready). */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (i > 200) throw new Error(`pgbouncer did not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
