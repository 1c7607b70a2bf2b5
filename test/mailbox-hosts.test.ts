// Mailbox hosts (issue 8 §1) through the real `mms` entry, against a real Radicale (Debian package) on both
// databases: the host cmdlets and their audit rows, discovery (RFC 6764 well-known, RFC 5397 principal, RFC 4791
// §6.2.1 home set), the one-line failures, and passwords sealed at rest and never shown.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { TEST_DATABASES } from './helpers/databases.js';
import { freePort, RADICALE_SKIP, RadicaleServer } from './helpers/radicale.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { runCli } from '../src/cli/run-cli.js';
import { keyFileFor } from '../src/secrets/index.js';
import { limiterFor } from '../src/mailbox/caldav/index.js';
import type { Db } from '../src/store/index.js';

const NOW = Date.UTC(2026, 10, 2, 9);
// Distinctive passwords: any appearance in output, rows or database bytes is a leak.
const PW = { svc: `svc-${randomUUID()}`, alice: `alice-${randomUUID()}`, bob: `bob-${randomUUID()}`, carol: `carol-${randomUUID()}` };
const SECRETS = Object.values(PW);
const PG_KEY = randomBytes(32).toString('base64');

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, read: () => text };
}

/** Everything any command printed in this file: checked for passwords at the end of each suite. */
let printed = '';

async function mms(url: string, env: Record<string, string>, ...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, env: { MMS_DATABASE_URL: url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester', ...env }, isTty: false, now: () => NOW }, CMDLETS);
  printed += out.read() + err.read();
  return { code, out: out.read(), err: err.read() };
}

function assertNoSecret(text: string, where: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `a password appears in ${where}`);
}

let radicale: RadicaleServer;
let files: string;
const pwFile = (name: keyof typeof PW, value: string = PW[name]): string => {
  const f = path.join(files, `${name}-${randomUUID()}`);
  fs.writeFileSync(f, `${value}\n`, { mode: 0o600 });
  return f;
};

describe('mailbox hosts against Radicale', { skip: RADICALE_SKIP }, () => {
  before(async () => {
    files = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-pw-'));
    // owner_write: the service account reads every user's calendars (delegated read access).
    radicale = await RadicaleServer.start(Object.entries(PW).map(([name, password]) => ({ name, password })), { rights: 'owner_write' });
    await radicale.makeCalendar('alice', 'work', 'Alice Work');
    await radicale.makeCalendar('alice', 'tasks', 'Alice Tasks', ['VTODO']);
    await radicale.makeCalendar('bob', 'main', 'Bob Main');
    await radicale.makeCalendar('carol', 'team', 'Carol Team');
  });
  after(async () => {
    await radicale?.dispose();
    if (files) fs.rmSync(files, { recursive: true, force: true });
  });

  for (const t of TEST_DATABASES) {
    describe(t.name, { skip: t.skip }, () => {
      const env: Record<string, string> = t.name === 'postgres' ? { MMS_SECRET_KEY: PG_KEY } : {};
      let url: string;
      let db: Db;
      let drop: () => Promise<void>;
      const run = (...argv: string[]) => mms(url, env, ...argv);
      const ok = async (...argv: string[]) => {
        const r = await run(...argv);
        assert.equal(r.code, 0, `${argv[0]} failed: ${r.err}`);
        return r;
      };
      const json = async (...argv: string[]) => JSON.parse((await ok(...argv, '--json')).out) as Record<string, any>;

      before(async () => {
        ({ url, db, drop } = await t.fresh());
        await ok('New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com');
        await ok('New-MmsBridge', '-Name', 'US', '-TollNumber', '+14255550100 (Seattle)');
        for (const u of ['alice', 'bob', 'carol', 'dave']) await ok('New-MmsUser', `${u}@contoso.com`, '-DisplayName', u, '-HostedOn', 'OnPremises');
        await ok('New-MmsUser', 'olga@contoso.com', '-DisplayName', 'Olga', '-MailboxLocation', 'OnPremises');
      });
      after(async () => {
        assertNoSecret(printed, 'the output of mms');
        await drop();
      });

      it('creates, lists, changes and removes hosts; audit rows record changes but no password', async () => {
        const created = await json('New-MmsMailboxHost', '-Name', 'Radicale', '-Type', 'caldav', '-Url', radicale.url, '-UserName', 'svc', '-PasswordFile', pwFile('svc'), '-PrincipalUrlTemplate', '/{localpart}/');
        assert.deepEqual(created, { Name: 'Radicale', Type: 'CalDav', Url: `${radicale.url}/`, UserName: 'svc', Password: '(stored, encrypted)', MaxConcurrency: 4, PrincipalUrlTemplate: '/{localpart}/', Users: 0 });
        const dup = await run('New-MmsMailboxHost', '-Name', 'radicale', '-Type', 'CalDav', '-Url', radicale.url);
        assert.equal(dup.code, 1);
        assert.match(dup.err, /a mailbox host named 'radicale' exists already; change it with Set-MmsMailboxHost/);
        await ok('New-MmsMailboxHost', '-Name', 'Spare', '-Type', 'CalDav', '-Url', 'https://dav.example.net/');
        assert.deepEqual((await json('Get-MmsMailboxHost') as unknown as any[]).map((h) => h.Name), ['Radicale', 'Spare']);
        const changed = await json('Set-MmsMailboxHost', 'Spare', '-MaxConcurrency', '8', '-UserName', 'svc2', '-PasswordFile', pwFile('bob'));
        assert.equal(changed.MaxConcurrency, 8);
        assert.equal(changed.UserName, 'svc2');
        const bad = await run('Set-MmsMailboxHost', 'Spare', '-MaxConcurrency', '0');
        assert.equal(bad.code, 2);
        assert.match(bad.err, /-MaxConcurrency 0 is out of range: give a whole number from 1 to 64/);
        const cleared = await json('Set-MmsMailboxHost', 'Spare', '-UserName', '', '-PrincipalUrlTemplate', '');
        assert.deepEqual([cleared.UserName, cleared.Password, cleared.PrincipalUrlTemplate], ['', '', '']);
        await ok('Set-MmsUserMailbox', 'dave@contoso.com', '-MailboxHost', 'Spare');
        const refused = await run('Remove-MmsMailboxHost', 'Spare');
        assert.equal(refused.code, 1);
        assert.match(refused.err, /1 user\(s\) have their mailbox on 'Spare': move them to another host with Set-MmsUserMailbox first/);
        await ok('Set-MmsUserMailbox', 'dave@contoso.com', '-MailboxHost', 'Radicale');
        await ok('Remove-MmsMailboxHost', 'Spare');
        const gone = await run('Get-MmsMailboxHost', 'Spare');
        assert.equal(gone.code, 1);
        assert.match(gone.err, /no mailbox host named 'Spare' \(known: Radicale\); create it with New-MmsMailboxHost/);

        const audit = await db.kysely.selectFrom('audit_log').select(['cmdlet', 'target', 'changes']).where('cmdlet', 'like', '%Mailbox%').orderBy('id').execute();
        assert.deepEqual(audit.map((r) => `${r.cmdlet} ${r.target}`), [
          'New-MmsMailboxHost Radicale', 'New-MmsMailboxHost Spare', 'Set-MmsMailboxHost Spare', 'Set-MmsMailboxHost Spare', 'Set-MmsUserMailbox dave@contoso.com',
          'Set-MmsUserMailbox dave@contoso.com', 'Remove-MmsMailboxHost Spare',
        ]);
        assert.deepEqual(JSON.parse(audit[2]!.changes), { UserName: [null, 'svc2'], MaxConcurrency: [4, 8], Password: [null, 'changed'] });
        assert.deepEqual(JSON.parse(audit[3]!.changes), { UserName: ['svc2', null], Password: ['set', null] });
        assert.deepEqual(JSON.parse(audit[0]!.changes).Password, [null, 'set']);
        const sealed = await db.kysely.selectFrom('mailbox_hosts').select('password_sealed').execute();
        for (const r of sealed) assert.match(r.password_sealed ?? '', /^v1:[A-Za-z0-9+/=]+$/);
        for (const r of audit) assert.ok(!sealed.some((s) => s.password_sealed && r.changes.includes(s.password_sealed)), 'a sealed password is in the audit log');
      });

      it('Test-MmsMailboxHost discovers through /.well-known/caldav and lists the user\'s VEVENT calendars and what the server offers', async () => {
        await ok('Set-MmsUserMailbox', 'alice@contoso.com', '-MailboxHost', 'Radicale', '-UserName', 'alice', '-PasswordFile', pwFile('alice'));
        const r = await json('Test-MmsMailboxHost', 'Radicale', '-Identity', 'alice@contoso.com');
        assert.equal(r.Status, 'Connected');
        assert.equal(r.UserName, 'alice');
        assert.ok(r.DavCompliance.includes('calendar-access'), JSON.stringify(r.DavCompliance));
        assert.equal(r.CalendarAutoSchedule, false); // Radicale does not schedule (RFC 6638)
        assert.equal(r.SyncCollection, true); // RFC 6578 in supported-report-set
        assert.equal(r.Principal, `${radicale.url}/alice/`);
        assert.equal(r.CalendarHome, `${radicale.url}/alice/`);
        assert.deepEqual(r.Calendars, [`Alice Work <${radicale.url}/alice/work/>`]); // the VTODO-only calendar is not one
        // The requests went through the host's shared limiter, sized by its MaxConcurrency (default 4).
        assert.ok(limiterFor(`${radicale.url}/`, 4).peak >= 1);
        // The service account on its own: its principal, and no calendars of its own.
        const svc = await json('Test-MmsMailboxHost', 'Radicale');
        assert.equal(svc.Principal, `${radicale.url}/svc/`);
        assert.deepEqual(svc.Calendars, []);
      });

      it('Test-MmsMailboxHost reaches a mailbox at a given CalendarUrl, and through the principal template, as the service account', async () => {
        await ok('Set-MmsUserMailbox', 'bob@contoso.com', '-MailboxHost', 'Radicale', '-CalendarUrl', `${radicale.url}/bob/main/`);
        const bob = await json('Test-MmsMailboxHost', 'Radicale', '-Identity', 'bob@contoso.com');
        assert.equal(bob.UserName, 'svc');
        assert.equal(bob.Principal, '');
        assert.deepEqual(bob.Calendars, [`Bob Main <${radicale.url}/bob/main/>`]);
        await ok('Set-MmsUserMailbox', 'carol@contoso.com', '-MailboxHost', 'Radicale');
        const carol = await json('Test-MmsMailboxHost', 'Radicale', '-Identity', 'carol@contoso.com');
        assert.equal(carol.Principal, `${radicale.url}/carol/`);
        assert.deepEqual(carol.Calendars, [`Carol Team <${radicale.url}/carol/team/>`]);
        const notCal = await run('Set-MmsUserMailbox', 'bob@contoso.com', '-MailboxHost', 'Radicale', '-CalendarUrl', `${radicale.url}/bob/`);
        assert.equal(notCal.code, 0, notCal.err);
        const t = await run('Test-MmsMailboxHost', 'Radicale', '-Identity', 'bob@contoso.com');
        assert.equal(t.code, 1);
        assert.match(t.err, /is not a calendar that holds meetings \(VEVENT\); give the URL of a calendar collection with -CalendarUrl/);
        await ok('Set-MmsUserMailbox', 'bob@contoso.com', '-MailboxHost', 'Radicale', '-CalendarUrl', `${radicale.url}/bob/main/`);
      });

      it('a wrong password, an unknown principal and a refused port each fail with one line naming the fix', async () => {
        await ok('New-MmsMailboxHost', '-Name', 'WrongPw', '-Type', 'CalDav', '-Url', radicale.url, '-UserName', 'svc', '-PasswordFile', pwFile('svc', `wrong-${PW.svc}`));
        // The well-known URL redirects (Radicale: 301 to /) and discovery follows it: the 401 names the final URL.
        const wrong = await run('Test-MmsMailboxHost', 'WrongPw');
        assert.equal(wrong.code, 1);
        assert.equal(wrong.err.trim().split('\n').length, 1, wrong.err);
        assert.match(wrong.err, /mailbox host 'WrongPw': PROPFIND http:\/\/127\.0\.0\.1:\d+\/ answered 401 Unauthorized: the user name or password is wrong; fix them with -UserName and -PasswordFile/);
        await ok('Set-MmsUserMailbox', 'dave@contoso.com', '-MailboxHost', 'Radicale', '-UserName', 'svc', '-PasswordFile', pwFile('svc'), '-CalendarUrl', `${radicale.url}/nobody/cal/`);
        const missing = await run('Test-MmsMailboxHost', 'Radicale', '-Identity', 'dave@contoso.com');
        assert.equal(missing.code, 1);
        assert.match(missing.err, /answered 404 Not Found: nothing at this URL; check the host's -Url, -PrincipalUrlTemplate or the user's -CalendarUrl/);
        await ok('New-MmsMailboxHost', '-Name', 'Anon', '-Type', 'CalDav', '-Url', radicale.url);
        const anon = await run('Test-MmsMailboxHost', 'Anon');
        assert.equal(anon.code, 1);
        assert.match(anon.err, /answered 401 Unauthorized: the server asks for an account; give -UserName and -PasswordFile$/m);
        // A web server that is no CalDAV server: neither the well-known URL nor the host URL names a principal.
        const plain = http.createServer((_q, res) => res.writeHead(404).end('not here'));
        await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
        try {
          const plainUrl = `http://127.0.0.1:${(plain.address() as net.AddressInfo).port}/dav/`;
          await ok('New-MmsMailboxHost', '-Name', 'NoDav', '-Type', 'CalDav', '-Url', plainUrl);
          const noPrincipal = await run('Test-MmsMailboxHost', 'NoDav');
          assert.equal(noPrincipal.code, 1);
          assert.equal(noPrincipal.err.trim(), `mms: mailbox host 'NoDav': no principal found at ${new URL('/.well-known/caldav', plainUrl).href} or ${plainUrl} (current-user-principal, RFC 5397) (404): set the host's -PrincipalUrlTemplate or give the user's -CalendarUrl`);
        } finally {
          plain.closeAllConnections();
          plain.close();
        }
        const port = await freePort();
        await ok('New-MmsMailboxHost', '-Name', 'Nobody', '-Type', 'CalDav', '-Url', `http://127.0.0.1:${port}/`);
        const refused = await run('Test-MmsMailboxHost', 'Nobody');
        assert.equal(refused.code, 1);
        assert.equal(refused.err.trim().split('\n').length, 1, refused.err);
        assert.match(refused.err, new RegExp(`connection refused: nothing listens at 127\\.0\\.0\\.1:${port}; check the host's -Url \\(port\\) and that the server is running`));
      });

      it('a mailbox on a host is reachable; an on-premises mailbox is refused a host and stays out of reach', async () => {
        const onPrem = await run('Set-MmsUserMailbox', 'olga@contoso.com', '-MailboxHost', 'Radicale');
        assert.equal(onPrem.code, 1);
        assert.match(onPrem.err, /the mailbox of olga@contoso.com is on-premises \(MailboxLocation OnPremises\), out of MMS's reach/);
        assert.equal((await json('Get-MmsUserMailbox', 'olga@contoso.com')).MailboxHost, '(built-in store)');
        assert.equal((await json('Get-MmsUserMailbox', 'alice@contoso.com')).MailboxHost, 'Radicale');
        await ok('Set-MmsUserLicense', '-Identity', 'alice@contoso.com', '-AddLicenses', 'AudioConferencing');
        assert.equal((await json('Move-CsUser', 'alice@contoso.com', '-Target', 'Online')).MeetingMigration, 'Queued');
        const olga = await json('Set-MmsUserLicense', '-Identity', 'olga@contoso.com', '-AddLicenses', 'AudioConferencing');
        assert.equal(olga.MeetingMigration, 'None');
        assert.match(olga.Reason, /on-premises, out of MMS's reach/);
      });

      it('passwords are sealed at rest: not in any row, not in the database file, not in any output', async () => {
        const rows = [
          ...(await db.kysely.selectFrom('mailbox_hosts').selectAll().execute()),
          ...(await db.kysely.selectFrom('user_mailboxes').selectAll().execute()),
          ...(await db.kysely.selectFrom('audit_log').selectAll().execute()),
        ];
        assertNoSecret(JSON.stringify(rows), 'the database rows');
        assert.equal((await db.kysely.selectFrom('user_mailboxes').select('password_sealed').where('user_name', '=', 'alice').executeTakeFirstOrThrow()).password_sealed?.startsWith('v1:'), true);
        if (t.name === 'sqlite') {
          await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db.kysely);
          for (const f of [url, `${url}-wal`]) if (fs.existsSync(f)) assertNoSecret(fs.readFileSync(f).toString('latin1'), f);
        } else {
          const dump = await sql<{ t: string }>`select string_agg(x::text, ' ') as t from (select row_to_json(h)::text as x from mailbox_hosts h union all select row_to_json(u)::text from user_mailboxes u union all select row_to_json(a)::text from audit_log a) s`.execute(db.kysely);
          assertNoSecret(dump.rows[0]?.t ?? '', 'the PostgreSQL rows');
        }
        const listing = (await ok('Get-MmsMailboxHost')).out + (await ok('Get-MmsMailboxHost', '--json')).out + (await ok('Get-MmsAuditLog', '--json')).out;
        assertNoSecret(listing, 'Get-MmsMailboxHost / the audit log');
      });
    });
  }
});

describe('secret keys', { skip: RADICALE_SKIP }, () => {
  let server: RadicaleServer;
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-keys-'));
    server = await RadicaleServer.start([{ name: 'alice', password: PW.alice }]);
    await server.makeCalendar('alice', 'work', 'Work');
  });
  after(async () => {
    await server?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    assertNoSecret(printed, 'the output of mms');
  });
  const file = (v: string) => {
    const f = path.join(dir, randomUUID());
    fs.writeFileSync(f, v);
    return f;
  };

  it('sqlite without MMS_SECRET_KEY: a key file is created beside the database with mode 0600, and another key cannot open the password', async () => {
    const url = path.join(dir, 'keyfile', 'mms.sqlite');
    const run = (env: Record<string, string>, ...argv: string[]) => mms(url, env, ...argv);
    assert.equal((await run({}, 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com')).code, 0);
    assert.equal(fs.existsSync(keyFileFor(url)), false, 'no key file before a secret is stored');
    const created = await run({}, 'New-MmsMailboxHost', 'R', '-Type', 'CalDav', '-Url', server.url, '-UserName', 'alice', '-PasswordFile', file(PW.alice));
    assert.equal(created.code, 0, created.err);
    const st = fs.statSync(keyFileFor(url));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(Buffer.from(fs.readFileSync(keyFileFor(url), 'utf8').trim(), 'base64').length, 32);
    const tested = await run({}, 'Test-MmsMailboxHost', 'R', '--json');
    assert.equal(tested.code, 0, tested.err);
    assert.equal(JSON.parse(tested.out).Principal, `${server.url}/alice/`);
    const other = await run({ MMS_SECRET_KEY: randomBytes(32).toString('hex') }, 'Test-MmsMailboxHost', 'R');
    assert.equal(other.code, 2);
    assert.match(other.err, /the stored secret of mailbox_hosts:[0-9a-f-]+:password does not open with this key: MMS_SECRET_KEY \(or the key file\) differs from the one it was stored with; restore that key or store the secret again/);
  });

  it('sqlite with MMS_SECRET_KEY (hex or base64) uses it and writes no key file; a bad key fails at start without echoing it', async () => {
    const url = path.join(dir, 'withkey', 'mms.sqlite');
    const hex = randomBytes(32);
    for (const key of [hex.toString('hex'), hex.toString('base64')]) {
      const env = { MMS_SECRET_KEY: key };
      if (!fs.existsSync(url)) assert.equal((await mms(url, env, 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com')).code, 0);
      const name = `R${key.length}`;
      assert.equal((await mms(url, env, 'New-MmsMailboxHost', name, '-Type', 'CalDav', '-Url', server.url, '-UserName', 'alice', '-PasswordFile', file(PW.alice))).code, 0);
      assert.equal((await mms(url, env, 'Test-MmsMailboxHost', name)).code, 0);
    }
    assert.equal(fs.existsSync(keyFileFor(url)), false);
    const bad = await mms(url, { MMS_SECRET_KEY: 'not-a-key-123' }, 'Get-MmsMailboxHost');
    assert.equal(bad.code, 2);
    assert.equal(bad.err.trim(), 'mms: MMS_SECRET_KEY is not valid: give 32 bytes as base64 or 64 hex digits (openssl rand -base64 32)');
  });

  const pgDb = TEST_DATABASES.find((d) => d.name === 'postgres')!;
  it('postgres without MMS_SECRET_KEY: a host without a password is fine; storing a password fails with one line naming the fix', { skip: pgDb.skip }, async () => {
    const { url, drop } = await pgDb.fresh();
    try {
      assert.equal((await mms(url, {}, 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com')).code, 0);
      assert.equal((await mms(url, {}, 'New-MmsMailboxHost', 'Open', '-Type', 'CalDav', '-Url', server.url)).code, 0);
      const r = await mms(url, {}, 'New-MmsMailboxHost', 'R', '-Type', 'CalDav', '-Url', server.url, '-UserName', 'alice', '-PasswordFile', file(PW.alice));
      assert.equal(r.code, 2);
      assert.equal(r.err.trim(), 'mms: a password must be stored or read encrypted but MMS_SECRET_KEY is not set: set it to 32 random bytes in base64 (openssl rand -base64 32), the same for every mms process on this database');
      assert.equal((await mms(url, {}, 'Get-MmsMailboxHost', '--json')).out.includes('"R"'), false);
    } finally {
      await drop();
    }
  });
});
