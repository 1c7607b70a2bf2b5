// The real cmdlet table through the real `mms` entry: help for every cmdlet, the admin workflow of the README on
// both databases, and the exit code and one-line message of each kind of mistake.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TEST_DATABASES } from './helpers/databases.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { runCli } from '../src/cli/run-cli.js';
import { validateCmdlets } from '../src/cli/cmdlet.js';

const NOW = Date.UTC(2026, 10, 2, 9);

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, read: () => text };
}

async function mms(url: string, ...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, env: { MMS_DATABASE_URL: url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'tester' }, isTty: false, now: () => NOW }, CMDLETS);
  return { code, out: out.read(), err: err.read() };
}

describe('cmdlet table', () => {
  it('has no declaration mistakes', () => {
    assert.deepEqual(validateCmdlets(CMDLETS), []);
  });

  it('mms help lists every cmdlet and mms help <Cmdlet> shows its syntax and an example', async () => {
    const list = await mms(':memory:', 'help');
    assert.equal(list.code, 0);
    for (const c of CMDLETS) {
      assert.ok(list.out.includes(c.name), `mms help does not list ${c.name}`);
      const one = await mms(':memory:', 'help', c.name);
      assert.equal(one.code, 0, `mms help ${c.name} failed: ${one.err}`);
      assert.match(one.out, new RegExp(`SYNTAX\\n  mms ${c.name}`));
      assert.match(one.out, /EXAMPLES\n  npx mms /);
    }
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: mms workflow`, { skip: t.skip }, () => {
    it('runs the README workflow with tables and --json, and explains a non-migration in the audit log', async () => {
      const { url, drop } = await t.fresh();
      try {
        assert.equal((await mms(url, 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com')).code, 0);
        assert.equal((await mms(url, 'New-MmsBridge', '-Name', 'US', '-TollNumber', '+1 425 555 0100 (Seattle)', '-TollFreeNumber', '+18005550199 (United States)')).code, 0);
        assert.equal((await mms(url, 'New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Shaw', '-HostedOn', 'onpremises')).code, 0);
        const lic = await mms(url, 'Set-MmsUserLicense', '-Identity', 'AMY@contoso.com', '-AddLicenses', 'AudioConferencing', '--json');
        assert.equal(lic.code, 0, lic.err);
        assert.deepEqual(JSON.parse(lic.out).MeetingMigration, 'None');
        const move = await mms(url, 'Move-CsUser', '-Identity', 'sip:amy@contoso.com', '-Target', 'Online', '--json');
        assert.equal(move.code, 0, move.err);
        assert.equal(JSON.parse(move.out).MeetingMigration, 'Queued');
        const users = JSON.parse((await mms(url, 'Get-CsOnlineDialInConferencingUser', '--json')).out) as Array<Record<string, unknown>>;
        assert.equal(users.length, 1);
        assert.equal(users[0]?.ServiceNumber, '+14255550100');
        assert.equal(users[0]?.Provider, 'Microsoft');
        assert.equal('LeaderPin' in (users[0] ?? {}), false);
        const audit = JSON.parse((await mms(url, 'Get-MmsAuditLog', '-Identity', 'amy@contoso.com', '--json')).out) as Array<Record<string, string>>;
        assert.deepEqual(audit.map((r) => r.Decision), ['None', 'NoMigration', 'Migrate']);
        assert.match(audit[1]?.Reason ?? '', /still homed on-premises/);
        const status = JSON.parse((await mms(url, 'Get-CsMeetingMigrationStatus', '-UserId', 'amy@contoso.com', '--json')).out) as Array<Record<string, unknown>>;
        assert.equal(status.length, 1);
        assert.equal(status[0]?.State, 'Pending');
        assert.equal(status[0]?.MigrationType, 'ToSameType');
        const table = await mms(url, 'Get-CsOnlineDialInConferencingUser');
        assert.match(table.out, /^Identity\s+DisplayName/);
        assert.match(table.out, /amy@contoso\.com\s+Amy Shaw/);
      } finally {
        await drop();
      }
    });

    it('gives each kind of mistake its exit code and a one-line message naming the fix', async () => {
      const { url, drop } = await t.fresh();
      try {
        await mms(url, 'New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com');
        const cases: Array<[string[], number, RegExp]> = [
          [['Get-MeetingMigrationStatus'], 2, /unknown cmdlet "Get-MeetingMigrationStatus"; did you mean Get-CsMeetingMigrationStatus/],
          [['Move-CsUser', '-Identity', 'nobody@contoso.com', '-Target', 'Online'], 1, /no user 'nobody@contoso.com' in tenant Contoso/],
          [['Move-CsUser', '-Identity', 'x@contoso.com', '-Target', 'Mars'], 2, /Target/],
          [['New-MmsBridge', '-Name', 'B', '-TollNumber', '425-555'], 2, /not an E\.164 phone number: write \+ country code and number/],
          [['New-MmsUser', 'bob@fabrikam.com', '-DisplayName', 'Bob'], 2, /fabrikam\.com is not a verified domain of Contoso/],
          [['Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', '3'], 2, /PinLength 3 is out of range: give 4 to 12/],
          [['Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', 'five'], 2, /PinLength/],
          [['Move-CsUser', '-Target', 'Online'], 2, /Identity/],
          [['Get-MmsAuditLog', '-StartTime', 'yesterday'], 2, /StartTime/],
        ];
        for (const [argv, code, message] of cases) {
          const r = await mms(url, ...argv);
          assert.equal(r.code, code, `${argv.join(' ')}: exit ${r.code}, stderr ${r.err}`);
          assert.match(r.err, message, argv.join(' '));
          assert.equal(r.err.trim().split('\n').length, 1, `${argv.join(' ')} printed more than one line: ${r.err}`);
          assert.match(r.err, /^mms: /);
        }
      } finally {
        await drop();
      }
    });
  });
}
