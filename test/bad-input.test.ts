// Issue 9 §4: bad input gets one line that names the problem and the fix, exit 2, and writes nothing; re-applying
// a state that is already in place succeeds with "no change". Through the real `mms` entry, on both databases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_DATABASES } from './helpers/databases.js';
import { ensureBuiltDist } from './helpers/built-dist.js';
import { runMms, type CliOutcome } from './helpers/cli-run.js';
import type { Db } from '../src/store/index.js';
import { auditLogPage, dialInUsers, newUser, resolveTenant } from '../src/directory/index.js';
import { MmsError } from '../src/domain/errors.js';

const NOW = Date.UTC(2026, 10, 2, 9);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-bad-input-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** Everything a refused command must leave as it was. */
async function snapshot(db: Db) {
  const k = db.kysely;
  const count = async (table: 'audit_log' | 'migration_requests' | 'calendar_objects' | 'tenants' | 'mailbox_hosts' | 'outbox') =>
    Number((await k.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return {
    users: await k.selectFrom('users').selectAll().orderBy('id').execute(),
    audit: await count('audit_log'),
    requests: await count('migration_requests'),
    objects: await count('calendar_objects'),
    tenants: await count('tenants'),
    hosts: await count('mailbox_hosts'),
  };
}

function assertOneLine(r: CliOutcome, code: number, message: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: exit ${r.code}, stderr ${r.err}`);
  assert.match(r.err, /^mms: [^\n]+\n$/, `${what}: not one line: ${JSON.stringify(r.err)}`);
  assert.match(r.err, message, what);
  assert.doesNotMatch(r.err, /\b(EISDIR|ENOENT|ENOTDIR|EACCES)\b|readonly database|failed:/, `${what}: a raw error: ${r.err}`);
  assert.ok(r.err.length < 400, `${what}: the line is ${r.err.length} characters`);
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: bad input gets one line and exit 2, and nothing is written`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    const mms = (...argv: string[]) => runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, () => NOW, argv);

    /** Runs each case, asserting its exit code and line, and that the database is as it was. */
    async function refused(cases: ReadonlyArray<readonly [readonly string[], RegExp]>): Promise<void> {
      const before = await snapshot(fresh.db);
      for (const [argv, message] of cases) assertOneLine(await mms(...argv), 2, message, argv.join(' ').slice(0, 200));
      assert.deepEqual(await snapshot(fresh.db), before, 'a refused command wrote something');
    }

    before(async () => {
      fresh = await t.fresh();
      const setUp = [
        ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsBridge', '-Name', 'US', '-TollNumber', '+14255550100 (Seattle)', '-Default'],
        ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Shaw'],
        ['Set-MmsUserLicense', '-Identity', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing'],
        ['New-MmsUser', 'ben@contoso.com', '-DisplayName', 'Ben Ito', '-HostedOn', 'OnPremises'],
      ];
      for (const argv of setUp) {
        const r = await mms(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      }
    });
    after(() => fresh.drop());

    it('a UPN, SIP address or display name over 256 characters and a language that is not a BCP 47 tag are refused', async () => {
      const long = `${'a'.repeat(100_000)}@contoso.com`;
      await refused([
        [['New-MmsUser', long, '-DisplayName', 'Long'], /^mms: UserPrincipalName 'a{40}…\(100012 characters\)' is longer than 256 characters: give the user's real sign-in name/],
        [['New-MmsUser', `${'b'.repeat(245)}@contoso.com`, '-DisplayName', 'Just over'], /UserPrincipalName .* is longer than 256 characters/],
        [['New-MmsUser', 'cat@contoso.com', '-DisplayName', 'Cat', '-SipAddress', `sip:${'c'.repeat(250)}@contoso.com`], /^mms: SipAddress '.*' is longer than 256 characters: give the user's real address, e\.g\. sip:ashaw@contoso\.com/],
        [['Set-CsUser', '-Identity', 'amy@contoso.com', '-SipAddress', `sip:${long}`], /SipAddress .* is longer than 256 characters/],
        [['New-MmsUser', 'cat@contoso.com', '-DisplayName', 'D'.repeat(257)], /^mms: DisplayName 'D{40}…\(257 characters\)' is longer than 256 characters: give the name people see/],
        [['New-MmsUser', 'cat@contoso.com', '-DisplayName', 'Cat', '-PreferredLanguage', 'en-US-US'], /^mms: PreferredLanguage 'en-US-US' is not a BCP 47 language tag: write e\.g\. en-US, fr-FR, ja-JP$/m],
        [['New-MmsUser', 'cat@contoso.com', '-DisplayName', 'Cat', '-PreferredLanguage', 'de-DE-1901-1901'], /PreferredLanguage 'de-DE-1901-1901' is not a BCP 47 language tag/],
        [['New-MmsUser', 'cat@contoso.com', '-DisplayName', 'Cat', '-PreferredLanguage', 'English'], /PreferredLanguage 'English' is not a BCP 47 language tag/],
      ]);
      // At the limits, and a tag in another case, are accepted (stored canonical).
      const r = await mms('New-MmsUser', `${'d'.repeat(244)}@contoso.com`, '-DisplayName', 'E'.repeat(256), '-PreferredLanguage', 'zh-hant-tw', '--json');
      assert.equal(r.code, 0, r.err);
      assert.equal(JSON.parse(r.out).PreferredLanguage, 'zh-Hant-TW');
    });

    it('an empty -Identity is an error, not "every user"', async () => {
      await refused([
        [['Get-CsOnlineDialInConferencingUser', '-Identity', ''], /^mms: -Identity is empty: give a UPN or SIP address, e\.g\. -Identity ashaw@contoso\.com/],
        [['Get-MmsAuditLog', '-Identity', ''], /-Identity is empty/],
        [['Get-CsMeetingMigrationStatus', '-Identity', ''], /-Identity is empty/],
        [['Get-CsMeetingMigrationStatus', '-UserId:'], /-Identity needs a value|-Identity is empty/],
        [['Get-MmsOutbox', ''], /-Identity is empty/],
        [['Move-CsUser', '-Identity', ' ', '-Target', 'Online'], /-Identity is empty/],
      ]);
    });

    it('the directory layer (which the REST API will call too) refuses an empty identity filter instead of listing everyone', async () => {
      const tenant = await resolveTenant(fresh.db, undefined);
      const usage = (err: unknown) => err instanceof MmsError && err.code === 'Usage' && /^Identity is empty: give a UPN or SIP address/.test(err.message);
      await assert.rejects(dialInUsers(fresh.db, tenant, { identity: '' }), usage);
      await assert.rejects(auditLogPage(fresh.db, tenant, { identity: '  ' }), usage);
      await assert.rejects(newUser({ db: fresh.db, actor: 't', now: () => NOW, migrationDelayMs: 0 }, tenant.id, { userPrincipalName: `${'x'.repeat(300)}@contoso.com`, displayName: 'X' }), (err: unknown) => err instanceof MmsError && err.code === 'Usage');
    });

    it('an -Identity longer than any address is refused without echoing it whole', async () => {
      const long = `${'a'.repeat(100_000)}@contoso.com`;
      await refused([
        [['Get-CsOnlineDialInConferencingUser', long], /^mms: -Identity "a{40}"… \(100012 characters\) is longer than any UPN or SIP address \(256 characters\); give the user's UPN or SIP address, e\.g\. ashaw@contoso\.com$/m],
        [['Start-CsExMeetingMigration', '-Identity', `amy@contoso.com,${long}`], /-Identity "a{40}"… \(100012 characters\) is longer than any UPN or SIP address/],
        [['Get-CsMeetingMigrationStatus', '-UserId', long], /-Identity "a{40}"… \(100012 characters\) is longer than any UPN or SIP address/],
      ]);
    });

    it('-CorrelationId that is not a GUID is an error; a GUID or its first 8 characters are accepted', async () => {
      await refused([
        [['Undo-MmsMeetingMigration', '-CorrelationId', 'not-a-guid'], /^mms: -CorrelationId "not-a-guid" is not a CorrelationId: give the GUID Get-CsMeetingMigrationStatus shows .* or its first 8 or more characters$/m],
        [['Get-MmsOutbox', '-CorrelationId', 'not-a-guid'], /-CorrelationId "not-a-guid" is not a CorrelationId/],
        [['Get-CsMeetingMigrationTransactionHistory', 'amy@contoso.com', '-CorrelationId', 'a08342'], /-CorrelationId "a08342" is not a CorrelationId/],
        [['Get-CsMeetingMigrationTransactionHistory', 'amy@contoso.com', '-CorrelationId', ''], /-CorrelationId is empty/],
      ]);
      // An 8-character prefix is a CorrelationId's form: it is looked up (none starts so here), not refused as usage.
      const prefix = await mms('Get-MmsOutbox', '-CorrelationId', 'a083426b');
      assert.equal(prefix.code, 1, prefix.err);
      assert.match(prefix.err, /^mms: no migration a083426b in tenant Contoso/);
      const full = await mms('Undo-MmsMeetingMigration', '-CorrelationId', '8ADF2505-4619-417F-976C-AE6DE8A9276E');
      assert.equal(full.code, 1, full.err);
      assert.match(full.err, /no migration 8adf2505-4619-417f-976c-ae6de8a9276e in tenant Contoso/);
    });

    it('-StartTime after -EndTime is an error; an -EndTime given as a date alone includes that whole day', async () => {
      await refused([
        [['Get-CsMeetingMigrationStatus', '-StartTime', '2026-12-01', '-EndTime', '2026-11-30'], /^mms: -StartTime 2026-12-01T00:00:00\.000Z is after -EndTime 2026-11-30T23:59:59\.999Z: swap them or give an -EndTime later than -StartTime$/m],
        [['Get-MmsAuditLog', '-StartTime', '11/3/2026', '-EndTime', '11/2/2026 10:00 PM'], /-StartTime 2026-11-03T00:00:00\.000Z is after -EndTime 2026-11-02T22:00:00\.000Z/],
        [['Get-CsMeetingMigrationTransactionHistory', 'amy@contoso.com', '-StartTime', '2026-11-02T10:00Z', '-EndTime', '2026-11-02T09:00Z'], /is after -EndTime/],
      ]);
      const all = JSON.parse((await mms('Get-MmsAuditLog', '--json')).out) as unknown[];
      assert.ok(all.length >= 5);
      for (const range of [['-EndTime', '2026-11-02'], ['-EndTime', '11/2/2026'], ['-StartTime', '2026-11-02', '-EndTime', '2026-11-02'], ['-EndTime:2026-11-02']]) {
        const r = await mms('Get-MmsAuditLog', ...range, '--json');
        assert.equal(r.code, 0, r.err);
        assert.equal((JSON.parse(r.out) as unknown[]).length, all.length, `${range.join(' ')} includes the changes made at 09:00 that day`);
      }
      const status = await mms('Get-CsMeetingMigrationStatus', '-StartTime', '2026-11-02', '-EndTime', '2026-11-02', '--json');
      assert.equal((JSON.parse(status.out) as unknown[]).length, 1, 'amy\'s request of 09:00 is in the day');
      const dayBefore = await mms('Get-MmsAuditLog', '-EndTime', '2026-11-01', '--json');
      assert.deepEqual(JSON.parse(dayBefore.out), []);
    });

    it('a folder, a missing file or folder and an empty path each get one line naming the path and the fix', async () => {
      const folder = fs.mkdtempSync(path.join(TMP, 'folder-'));
      const missingFolder = path.join(folder, 'no-such-folder', 'x.ics');
      const missingFile = path.join(folder, 'nope.ics');
      const ics = path.join(folder, 'amy.ics');
      fs.writeFileSync(ics, 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nEND:VCALENDAR\r\n');
      const escaped = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await refused([
        [['Import-MmsCalendar', 'amy@contoso.com', '-Path', folder], new RegExp(`^mms: -Path ${escaped(folder)} is a folder; give the path of the \\.ics file in it$`, 'm')],
        [['Import-MmsCalendar', 'amy@contoso.com', '-Path', missingFolder], new RegExp(`^mms: -Path ${escaped(missingFolder)} is in a folder that does not exist \\(${escaped(path.dirname(missingFolder))}\\); create the folder or choose another path$`, 'm')],
        [['Import-MmsCalendar', 'amy@contoso.com', '-Path', missingFile], new RegExp(`^mms: -Path ${escaped(missingFile)} does not exist; give the path of the \\.ics file$`, 'm')],
        [['Import-MmsCalendar', 'amy@contoso.com', '-Path', ''], /^mms: -Path is empty: give a file path, e\.g\. -Path \.\/ashaw\.ics$/m],
        [['Export-MmsCalendar', 'amy@contoso.com', '-Path', folder], new RegExp(`^mms: -Path ${escaped(folder)} is a folder; give a file name in it, e\\.g\\. ${escaped(path.join(folder, 'calendar.ics'))}$`, 'm')],
        [['Export-MmsCalendar', 'amy@contoso.com', '-Path', ''], /-Path is empty/],
        [['Invoke-MmsMeetingMigrationTool', 'amy@contoso.com', '-InputPath', folder, '-OutputPath', path.join(folder, 'out.ics')], /^mms: -InputPath .* is a folder; give the path of the user's calendar exported as \.ics in it$/m],
        [['Invoke-MmsMeetingMigrationTool', 'amy@contoso.com', '-InputPath', ics, '-OutputPath', folder], /^mms: -OutputPath .* is a folder; give a file name in it/m],
        [['Invoke-MmsMeetingMigrationTool', 'amy@contoso.com', '-InputPath', '', '-OutputPath', path.join(folder, 'out.ics')], /-InputPath is empty/],
        [['Invoke-MmsMeetingMigrationTool', 'amy@contoso.com', '-InputPath', ics, '-OutputPath', path.join(folder, 'out.ics'), '-MessagesPath', path.join(ics, 'updates')], new RegExp(`^mms: -MessagesPath ${escaped(path.join(ics, 'updates'))} cannot be created: ${escaped(ics)} is a file, not a folder; choose another path$`, 'm')],
        [['New-MmsMailboxHost', 'Radicale', '-Type', 'CalDav', '-Url', 'https://dav.contoso.com/', '-UserName', 'svc', '-PasswordFile', folder], /^mms: -PasswordFile .* is a folder; give the path of a file that holds only the password in it$/m],
        [['New-MmsMailboxHost', 'Radicale', '-Type', 'CalDav', '-Url', 'https://dav.contoso.com/', '-UserName', 'svc', '-PasswordFile', missingFolder], /^mms: -PasswordFile .* is in a folder that does not exist/m],
        [['Invoke-MmsMeetingMigrationTool', 'amy@contoso.com', '-CalDavUrl', 'https://dav.contoso.com/amy/', '-UserName', 'amy', '-PasswordFile', folder], /^mms: -PasswordFile .* is a folder/m],
      ]);
      assert.deepEqual(fs.readdirSync(folder), ['amy.ics'], 'nothing was written to the folder');
    });

    it('re-applying a state already in place succeeds with "no change" and writes nothing', async () => {
      const cases: string[][] = [
        ['Move-CsUser', '-Identity', 'amy@contoso.com', '-Target', 'Online'],
        ['Move-CsUser', '-Identity', 'ben@contoso.com', '-Target', 'OnPremises'],
        ['Set-MmsUserLicense', '-Identity', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing'],
        ['Set-MmsUserLicense', '-Identity', 'ben@contoso.com', '-RemoveLicenses', 'AudioConferencing'],
        ['Enable-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com'],
        ['Disable-CsOnlineDialInConferencingUser', '-Identity', 'ben@contoso.com'],
        ['Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-BridgeName', 'US'],
        ['Set-CsUser', '-Identity', 'amy@contoso.com', '-SipAddress', 'sip:amy@contoso.com'],
      ];
      const before = await snapshot(fresh.db);
      for (const argv of cases) {
        const r = await mms(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: exit ${r.code}, ${r.err}`);
        assert.equal(r.err, '');
        assert.match(r.out, /no change: /, argv.join(' '));
      }
      assert.deepEqual(await snapshot(fresh.db), before, 'a re-applied state wrote something');
    });
  });
}

/**
 * `mms <argv>` as a user file permissions apply to: in this process when it is not root, else the real entry in
 * a child process running as nobody (root reads and writes any file).
 */
async function asUnprivileged(env: Record<string, string>, argv: readonly string[]): Promise<CliOutcome> {
  if (process.getuid?.() !== 0) return runMms(env, () => NOW, argv);
  ensureBuiltDist(); // the compiled mms, as installed: a stale dist/ would add its notice line
  const entry = fileURLToPath(new URL('../bin/mms.js', import.meta.url));
  const child = spawn(process.execPath, [entry, ...argv], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, uid: 65534, gid: 65534 });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => { out += String(c); });
  child.stderr.on('data', (c) => { err += String(c); });
  const [code] = (await once(child, 'close')) as [number];
  return { code, out, err };
}

describe('MMS_DATABASE_URL that cannot be used gets one line naming the path and the fix', () => {
  const env = (url: string) => ({ MMS_DATABASE_URL: url, MMS_ACTOR: 'tester' });

  it('a folder, or a folder that cannot be created, exit 2 with the fix; a missing folder is created', async () => {
    const dir = fs.mkdtempSync(path.join(TMP, 'db-'));
    const asFolder = await runMms(env(dir), () => NOW, ['Get-CsTenantMigrationConfiguration']);
    assertOneLine(asFolder, 2, new RegExp(`^mms: MMS_DATABASE_URL names the folder ${dir}, not a database file; give a file in it, e\\.g\\. MMS_DATABASE_URL=${dir}/mms\\.sqlite$`, 'm'), 'a folder');
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, 'x');
    const under = path.join(file, 'sub', 'mms.sqlite');
    const underFile = await runMms(env(under), () => NOW, ['Get-CsTenantMigrationConfiguration']);
    assert.equal(underFile.code, 2, underFile.err);
    assert.match(underFile.err, new RegExp(`^mms: the folder of the SQLite database ${under} cannot be created \\(ENOTDIR\\); create ${path.dirname(under)} or point MMS_DATABASE_URL at a file in a folder that exists\\n$`));
    const created = path.join(dir, 'new', 'folder', 'mms.sqlite');
    const ok = await runMms(env(created), () => NOW, ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com']);
    assert.equal(ok.code, 0, ok.err);
    assert.ok(fs.existsSync(created));
  });

  it('a read-only or unreadable database file, or a read-only folder, exits 2 naming the path and the permission to give', { timeout: 120_000 }, async () => {
    fs.chmodSync(TMP, 0o755); // the unprivileged user must reach the folder
    const dir = fs.mkdtempSync(path.join(TMP, 'db-ro-'));
    const file = path.join(dir, 'mms.sqlite');
    assert.equal((await runMms(env(file), () => NOW, ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'])).code, 0);
    fs.chmodSync(dir, 0o777);
    const bytes = fs.readFileSync(file);
    const readOnly = new RegExp(`^mms: the SQLite database ${file} is read-only for this user, so nothing was changed; give this user write permission \\(chmod u\\+w ${file}\\) or point MMS_DATABASE_URL at a copy it may write$`, 'm');
    const unreadable = new RegExp(`^mms: the SQLite database ${file} cannot be read by this user; give this user read and write permission \\(chmod u\\+rw ${file}\\)`, 'm');
    const readOnlyFolder = new RegExp(`^mms: the folder ${dir} of the SQLite database ${file} is read-only for this user \\(SQLite writes its -wal and -shm files there\\); give this user write permission on it or move the database$`, 'm');
    const write = ['New-MmsUser', 'cat@contoso.com', '-DisplayName', 'Cat'];
    const read = ['Get-CsTenantMigrationConfiguration'];
    const cases: Array<[number, number, string[], RegExp]> = [
      [0o444, 0o777, write, readOnly],
      [0o000, 0o777, read, unreadable],
      [0o666, 0o555, read, readOnlyFolder],
    ];
    for (const [fileMode, dirMode, argv, message] of cases) {
      fs.chmodSync(file, fileMode);
      fs.chmodSync(dir, dirMode);
      const r = await asUnprivileged(env(file), argv);
      fs.chmodSync(dir, 0o777);
      assertOneLine(r, 2, message, `${argv[0]}: file ${fileMode.toString(8)}, folder ${dirMode.toString(8)}`);
    }
    // A database this user may only read still answers reads.
    fs.chmodSync(file, 0o444);
    const reads = await asUnprivileged(env(file), read);
    assert.equal(reads.code, 0, reads.err);
    fs.chmodSync(file, 0o600);
    assert.deepEqual(fs.readFileSync(file), bytes, 'the database was not changed');
  });
});
