import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PG_URL, REQUIRE_ALL } from './databases.js';
import { freePort } from './radicale.js';

/**
 * A CalDAV server that schedules (RFC 6638: `calendar-auto-schedule` in its DAV header): Debian's DAViCal (package
 * `davical`, PHP + PostgreSQL), run by the tests on PHP's built-in web server (`php -S`, no Apache, no root) on a
 * free loopback port, with its own folder (config, router) and its own database on the suite's PostgreSQL server.
 * `.ci/run` installs it (`apt-get install --no-install-recommends davical php8.2-cgi`: the cgi flavour satisfies
 * the `php` dependency without pulling Apache in).
 */
export const DAVICAL_DIR = process.env.MMS_DAVICAL_DIR || '/usr/share/davical';
export const PHP_BIN = process.env.MMS_PHP_BIN || '/usr/bin/php';

function missing(): string | undefined {
  if (!fs.existsSync(path.join(DAVICAL_DIR, 'htdocs', 'caldav.php'))) {
    return `DAViCal is not installed at ${DAVICAL_DIR}; install the Debian package davical (apt-get install --no-install-recommends davical php8.2-cgi) or set MMS_DAVICAL_DIR`;
  }
  if (!fs.existsSync(PHP_BIN)) return `PHP is not installed at ${PHP_BIN}; install php-cli or set MMS_PHP_BIN`;
  if (spawnSync('psql', ['--version']).status !== 0) return 'psql is not on PATH (DAViCal builds its database with it); install postgresql-client';
  return undefined;
}

async function pgProblem(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message}); DAViCal keeps its data there`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Why scheduling-server tests are skipped (undefined when they run); with MMS_REQUIRE_ALL=1 a missing one fails. */
export const SCHEDULING_SERVER_SKIP: string | undefined = missing() ?? (await pgProblem());
if (SCHEDULING_SERVER_SKIP && REQUIRE_ALL) throw new Error(`MMS_REQUIRE_ALL=1 but ${SCHEDULING_SERVER_SKIP}`);

/** An account on the test server; `email` is the calendar user address the server schedules to (mailto:). */
export interface SchedulingUser {
  readonly name: string;
  readonly password: string;
  readonly email: string;
}

/** A calendar object as stored: its URL, ETag and iCalendar text. */
export interface StoredObject {
  readonly url: string;
  readonly etag: string | undefined;
  readonly ics: string;
}

/** A PHP string literal (single quotes: only `\` and `'` are special). */
const php = (s: string): string => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
/** A libpq conninfo value (single quotes: only `\` and `'` are special). */
const conninfo = (s: string): string => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/**
 * A DAViCal server of the test's own. `stop`/`kill` end PHP and keep the database; `start` brings it back on the
 * same port; `dispose` also drops the database and deletes the folder.
 */
export class SchedulingServer {
  readonly dir: string;
  readonly port: number;
  readonly database: string;
  private readonly users: SchedulingUser[] = [];
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(dir: string, port: number, database: string) {
    this.dir = dir;
    this.port = port;
    this.database = database;
  }

  /** Builds the database, writes the folder, starts PHP (resolves once it answers) and creates the users. */
  static async start(users: readonly SchedulingUser[] = []): Promise<SchedulingServer> {
    if (SCHEDULING_SERVER_SKIP) throw new Error(SCHEDULING_SERVER_SKIP);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-davical-'));
    const server = new SchedulingServer(dir, await freePort(), `mms_davical_${randomBytes(8).toString('hex')}`);
    try {
      server.createDatabase();
      server.writeFiles();
      await server.start();
      for (const u of users) await server.addUser(u);
    } catch (err) {
      await server.dispose();
      throw err;
    }
    return server;
  }

  /** `http://127.0.0.1:PORT`: the origin, where `/.well-known/caldav` answers (RFC 6764). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The DAV root: DAViCal's paths are `/caldav.php/<user>/<calendar>/`. */
  get davUrl(): string {
    return `${this.url}/caldav.php/`;
  }

  calendarUrl(user: string, calendar = 'calendar'): string {
    return `${this.davUrl}${encodeURIComponent(user)}/${encodeURIComponent(calendar)}/`;
  }

  /** PHP's and DAViCal's output so far (the last 20,000 characters), for failure messages. */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  private pgTarget(): { host: string; port: string; user: string; password: string } {
    const u = new URL(PG_URL);
    return { host: u.hostname || '127.0.0.1', port: u.port || '5432', user: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password) };
  }

  /**
   * DAViCal's own `dba/create-database.sh` on a database named for this server: AWL and DAViCal tables, functions,
   * base data. (It also creates the cluster-wide roles davical_dba and davical_app if they are missing.)
   */
  private createDatabase(): void {
    const t = this.pgTarget();
    const r = spawnSync('sh', [path.join(DAVICAL_DIR, 'dba', 'create-database.sh'), this.database, randomBytes(9).toString('base64url')], {
      env: {
        ...process.env,
        PSQLOPTS: `-h ${t.host} -p ${t.port} -U ${t.user}`,
        DBAOPTS: `--dbhost ${t.host} --dbport ${t.port}`,
        ...(t.password ? { PGPASSWORD: t.password } : {}),
      },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0 || /ERROR/.test(out)) throw new Error(`DAViCal's create-database.sh for ${this.database} failed (${r.status ?? r.signal}): ${out.trim().slice(-2000)}`);
  }

  /**
   * The folder PHP serves: `htdocs/` with links to DAViCal's caldav.php and always.php and a router, `inc` linked to
   * DAViCal's, and `config/config.php`. DAViCal reads `/etc/davical/config.php` first; PHP's open_basedir leaves
   * /etc out, so that test fails and DAViCal falls through to `../config/config.php` — ours.
   */
  private writeFiles(): void {
    const htdocs = path.join(this.dir, 'htdocs');
    fs.mkdirSync(htdocs);
    fs.mkdirSync(path.join(this.dir, 'config'));
    for (const f of ['caldav.php', 'always.php']) fs.symlinkSync(path.join(DAVICAL_DIR, 'htdocs', f), path.join(htdocs, f));
    fs.symlinkSync(path.join(DAVICAL_DIR, 'inc'), path.join(this.dir, 'inc'));
    const t = this.pgTarget();
    const connect = [`host=${conninfo(t.host)}`, `port=${conninfo(t.port)}`, `dbname=${conninfo(this.database)}`, `user=${conninfo(t.user)}`]
      .concat(t.password ? [`password=${conninfo(t.password)}`] : []).join(' ');
    fs.writeFileSync(path.join(this.dir, 'config', 'config.php'), [
      '<?php',
      `$c->pg_connect[] = ${php(connect)};`,
      `$c->system_name = 'MMS test DAViCal';`,
      '// RFC 6638 implicit scheduling: an organizer\'s PUT delivers to local attendees (DAViCal\'s default, said aloud).',
      '$c->enable_auto_schedule = true;',
      '',
    ].join('\n'));
    // RFC 6764: /.well-known/caldav at the origin goes to caldav.php (the Debian Apache site does it with a
    // RewriteRule); /caldav.php/... is served by PHP itself with PATH_INFO.
    fs.writeFileSync(path.join(htdocs, 'router.php'), [
      '<?php',
      '$path = parse_url($_SERVER[\'REQUEST_URI\'], PHP_URL_PATH);',
      'if (preg_match(\'{^/\\.well-known/}\', $path)) {',
      '  $_SERVER[\'PATH_INFO\'] = $path;',
      '  $_SERVER[\'SCRIPT_NAME\'] = \'/caldav.php\';',
      '  require __DIR__ . \'/caldav.php\';',
      '  return true;',
      '}',
      'return false;',
      '',
    ].join('\n'));
  }

  /**
   * Starts PHP (4 workers: MMS sends requests concurrently) in its own process group and waits until it answers.
   * The wait ends with an error as soon as PHP exits; a 30 s ceiling only guards a hang.
   */
  async start(): Promise<void> {
    if (this.child) return;
    const htdocs = path.join(this.dir, 'htdocs');
    const allowed = [this.dir, DAVICAL_DIR, '/usr/share/awl', '/usr/share/php', os.tmpdir()].join(':');
    const child = spawn(PHP_BIN, [
      '-d', `open_basedir=${allowed}`, '-d', 'display_errors=stderr', '-d', 'log_errors=0',
      '-S', `127.0.0.1:${this.port}`, '-t', htdocs, path.join(htdocs, 'router.php'),
    ], { cwd: htdocs, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PHP_CLI_SERVER_WORKERS: '4' } });
    this.child = child;
    let exited: string | undefined;
    const keep = (d: Buffer): void => { this.output = (this.output + d.toString()).slice(-20_000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      if (this.child === child) this.child = undefined;
    });
    child.once('error', (err) => { exited = err.message; });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`DAViCal (php -S) on port ${this.port} ${exited} before answering: ${this.output.trim().slice(-2000)}`);
      try {
        const res = await fetch(this.davUrl, { method: 'OPTIONS', signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`DAViCal (php -S) on port ${this.port} did not answer within 30 s: ${this.output.trim().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Ends PHP and its workers (the whole process group) with `signal`; the database stays. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
    await gone;
    this.child = undefined;
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops PHP, drops the database and deletes the folder. */
  async dispose(): Promise<void> {
    await this.kill();
    const c = new pg.Client({ connectionString: PG_URL });
    try {
      await c.connect();
      await c.query(`drop database if exists ${this.database} with (force)`);
    } finally {
      await c.end().catch(() => undefined);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Creates an account the way DAViCal's admin pages do (a `usr` row, plaintext password marked `**`, and a person
   * principal whose default privileges let others schedule to it and read its free/busy), then its calendar
   * `calendar` with MKCALENDAR. Returns the calendar's URL.
   */
  async addUser(user: SchedulingUser): Promise<string> {
    const db = new pg.Client({ connectionString: this.dbUrl() });
    await db.connect();
    try {
      await db.query(
        `insert into usr (active, email_ok, updated, username, password, fullname, email) values (true, now(), now(), $1, $2, $1, $3)`,
        [user.name, `**${user.password}`, user.email],
      );
      await db.query(
        `insert into principal (type_id, user_no, displayname, default_privileges)
         select 1, user_no, fullname, privilege_to_bits(array['read-free-busy', 'schedule-deliver']) from usr where username = $1`,
        [user.name],
      );
    } finally {
      await db.end();
    }
    this.users.push(user);
    const url = this.calendarUrl(user.name);
    const res = await fetch(url, { method: 'MKCALENDAR', headers: { authorization: this.authOf(user.name) } });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`MKCALENDAR ${url} answered ${res.status}: ${text.slice(0, 500)}`);
    return url;
  }

  /**
   * Delegation: `grantee` may read and write everything of `owner` (a DAViCal grant, what its admin pages write for
   * "Can read/write to"). A grantee's PUT in the owner's calendar is scheduled as the owner's: attendees get it.
   */
  async grant(owner: string, grantee: string): Promise<void> {
    const db = new pg.Client({ connectionString: this.dbUrl() });
    await db.connect();
    try {
      const r = await db.query(
        `insert into grants (by_principal, to_principal, privileges, is_group)
         select o.principal_id, g.principal_id, privilege_to_bits(array['read', 'write']), false
         from principal o join usr ou on ou.user_no = o.user_no, principal g join usr gu on gu.user_no = g.user_no
         where ou.username = $1 and gu.username = $2`,
        [owner, grantee],
      );
      if (r.rowCount !== 1) throw new Error(`cannot grant ${owner}'s calendars to ${grantee}: both must be users of this DAViCal`);
    } finally {
      await db.end();
    }
  }

  private dbUrl(): string {
    const u = new URL(PG_URL);
    u.pathname = `/${this.database}`;
    u.search = '';
    return u.href;
  }

  authOf(name: string): string {
    const u = this.users.find((x) => x.name === name);
    if (!u) throw new Error(`no DAViCal user ${name} on this test server`);
    return `Basic ${Buffer.from(`${u.name}:${u.password}`).toString('base64')}`;
  }

  /** Every calendar object in a collection (PROPFIND Depth 1, then GET each), as `user` sees it. */
  async objects(user: string, collectionUrl: string): Promise<StoredObject[]> {
    const auth = this.authOf(user);
    const res = await fetch(collectionUrl, { method: 'PROPFIND', headers: { authorization: auth, depth: '1', 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>' });
    const text = await res.text();
    if (res.status !== 207) throw new Error(`PROPFIND ${collectionUrl} answered ${res.status}: ${text.slice(0, 500)}`);
    const hrefs = [...text.matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\/(?:\w+:)?href>/g)].map((m) => new URL(m[1]!, collectionUrl).href);
    const out: StoredObject[] = [];
    for (const url of [...new Set(hrefs)]) {
      const r = await fetch(url, { headers: { authorization: auth } });
      const ics = await r.text();
      if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${ics.slice(0, 500)}`);
      out.push({ url, etag: r.headers.get('etag') ?? undefined, ics });
    }
    return out;
  }
}
