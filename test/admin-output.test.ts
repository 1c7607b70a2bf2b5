// Issue 9 §3 and §4: output that tells the whole story. Get-MmsAuditLog shows Actor and Changes, bridges by name;
// Get-MmsOutbox shows the meeting's subject and one message whole (-Id … -Full); Unregister-… says how many users
// it affected and warns when the bridge's default number changed (-RemoveDefaultServiceNumber as the reference
// names it); a tenant setting given its current value succeeds with "no change". Through the real CLI, both databases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { runMms } from './helpers/cli-run.js';
import { beatWorker } from '../src/store/worker-repo.js';

const NOW = Date.parse('2026-11-02T09:00:00Z');
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
type Row = Record<string, unknown>;

for (const t of TEST_DATABASES) {
  describe(`${t.name}: admin output tells the whole story`, { skip: t.skip }, () => {
    let fresh: Awaited<ReturnType<typeof t.fresh>>;
    const mms = async (...argv: string[]) => {
      // A worker runs (its heartbeat is fresh): the no-worker warning, tested in worker-heartbeat.test.ts, stays out.
      await beatWorker(fresh.db.kysely, { id: 'admin-output', host: 'test', pid: process.pid, startedAt: NOW, now: NOW, beatMs: 1000 });
      return runMms({ MMS_DATABASE_URL: fresh.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'alex.admin' }, () => NOW, argv);
    };
    const ok = async (...argv: string[]) => {
      const r = await mms(...argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      return r;
    };
    const json = async (...argv: string[]) => JSON.parse((await ok(...argv, '--json')).out) as Row[];
    const object = async (...argv: string[]) => JSON.parse((await ok(...argv, '--json')).out) as Row;

    before(async () => {
      fresh = await t.fresh();
      for (const argv of [
        ['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'],
        ['New-MmsBridge', '-Name', 'Contoso US', '-TollNumber', '+14255550100 (Seattle),+14255550101 (Redmond),+14255550102 (Tacoma)', '-TollFreeNumber', '+18005550100 (United States)', '-Default'],
        ['New-MmsBridge', '-Name', 'Contoso EU', '-TollNumber', '+442075550100 (London)'],
        ['New-MmsUser', 'amy@contoso.com', '-DisplayName', 'Amy Shaw'],
        ['New-MmsUser', 'ben@contoso.com', '-DisplayName', 'Ben Ito'],
        ['Set-MmsUserLicense', '-Identity', 'amy@contoso.com', '-AddLicenses', 'AudioConferencing'],
      ]) await ok(...argv);
    });
    after(() => fresh.drop());

    it('Get-MmsAuditLog shows Actor and Changes in the table, bridges by name in one line, and ChangeSet in --json', async () => {
      await ok('Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-BridgeName', 'Contoso EU');
      await ok('Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-BridgeName', 'Contoso US', '-ConferenceId', '4455667');
      const rows = (await json('Get-MmsAuditLog', '-Identity', 'amy@contoso.com')).filter((r) => r['Cmdlet'] === 'Set-CsOnlineDialInConferencingUser');
      assert.equal(rows.length, 2);
      const [toEu, back] = rows as [Row, Row];
      assert.equal(toEu['Actor'], 'alex.admin');
      assert.match(String(toEu['Changes']), /^BridgeName: Contoso US → Contoso EU; OnlineMeetingInformation: https:\/\/meet\.contoso\.com\/amy; bridge Contoso US; toll \+14255550100; toll-free \+18005550100; id \d+ → https:\/\/meet\.contoso\.com\/amy; bridge Contoso EU; toll \+442075550100; toll-free -; id \d+$/);
      assert.match(String(back['Changes']), /^BridgeName: Contoso EU → Contoso US; ConferenceId: \d+ → 4455667; /);
      for (const r of rows) assert.doesNotMatch(String(r['Changes']), GUID, 'a bridge shown by its GUID');
      assert.deepEqual((back['ChangeSet'] as Row)['BridgeName'], { Old: 'Contoso EU', New: 'Contoso US' });
      assert.deepEqual(((back['ChangeSet'] as Row)['ConferenceId'] as Row)['New'], '4455667');

      const table = (await ok('Get-MmsAuditLog', '-Identity', 'amy@contoso.com')).out.split('\n');
      assert.match(table[0] ?? '', /^Time +Actor +Cmdlet +Target +Changes +Decision +Reason$/);
      const line = table.find((l) => l.includes('BridgeName: Contoso EU → Contoso US'));
      assert.ok(line, `no table line shows the bridge change:\n${table.join('\n')}`);
      assert.match(line, /alex\.admin +Set-CsOnlineDialInConferencingUser +amy@contoso\.com +BridgeName: Contoso EU → Contoso US; ConferenceId: \d+ → 4455667/);
    });

    it('Get-MmsOutbox shows the meeting subject, and -Id … -Full one message whole as stored', async () => {
      await ok('New-MmsMeeting', '-Organizer', 'amy@contoso.com', '-Subject', 'Quarterly review ✓', '-Start', '2026-12-01T09:00:00Z', '-End', '2026-12-01T10:00:00Z', '-Attendees', 'ben@contoso.com,partner@fabrikam.com');
      await ok('Set-CsOnlineDialInConferencingUser', '-Identity', 'amy@contoso.com', '-ResetConferenceId');
      await ok('Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-Wait');
      const rows = await json('Get-MmsOutbox', '-Identity', 'amy@contoso.com');
      assert.deepEqual(rows.map((r) => [r['Recipient'], r['Delivery'], r['Subject']]).sort(), [
        ['ben@contoso.com', 'MailboxCopyUpdated', 'Quarterly review ✓'],
        ['partner@fabrikam.com', 'iMIP', 'Quarterly review ✓'],
      ]);
      const table = (await ok('Get-MmsOutbox', '-Identity', 'amy@contoso.com')).out;
      assert.match(table.split('\n')[0] ?? '', /^Id +CreatedAt +Subject +Recipient +Delivery +State +Attempts +LastReply$/);
      assert.match(table, /Quarterly review ✓ +partner@fabrikam\.com +iMIP +Queued/);

      const external = rows.find((r) => r['Delivery'] === 'iMIP') as Row;
      // The meeting's iMIP message (amy's emails about her own dial-in changes are outbox messages too: issue 12 §3).
      const stored = await fresh.db.kysely.selectFrom('outbox_messages').select(['ics', 'from_address', 'sender_address', 'subject']).where('notice', 'is', null).executeTakeFirstOrThrow();
      const full = await object('Get-MmsOutbox', '-Id', String(external['Id']), '-Full');
      assert.equal(full['Body'], stored.ics, 'the iCalendar body is shown exactly as stored');
      assert.match(String(full['Body']), /^BEGIN:VCALENDAR\r\n[\s\S]*METHOD:REQUEST\r\n[\s\S]*SUMMARY:Quarterly review ✓\r\n/);
      assert.deepEqual([full['From'], full['Sender'], full['To'], full['MailSubject'], full['Subject']], [stored.from_address, stored.sender_address, 'partner@fabrikam.com', stored.subject, 'Quarterly review ✓']);
      assert.match(String(full['MessageId']), new RegExp(`^<${String(full['CorrelationId'])}\\.[0-9a-f]{16}\\.[0-9a-f]{16}@contoso\\.com>$`));
      const text = (await ok('Get-MmsOutbox', '-Id', String(external['Id']), '-Full')).out;
      assert.match(text, /^Id +: \d+$/m);
      assert.match(text, /^Body +: BEGIN:VCALENDAR$/m);
      assert.match(text, /^ +END:VCALENDAR$/m, 'every line of the body is shown');

      const internal = rows.find((r) => r['Delivery'] === 'MailboxCopyUpdated') as Row;
      const copy = await object('Get-MmsOutbox', '-Id', String(internal['Id']), '-Full');
      assert.match(String(copy['Message']), /^none: the attendee's own calendar copy was updated in place/);

      const one = await json('Get-MmsOutbox', '-Id', String(external['Id']));
      assert.deepEqual(one, [external], '-Id alone lists that one row, with the same fields');
      const noId = await mms('Get-MmsOutbox', '-Full');
      assert.equal(noId.code, 2);
      assert.match(noId.err, /^mms: -Full shows one message: give its -Id too/);
      const missing = await mms('Get-MmsOutbox', '-Id', '999999', '-Full');
      assert.equal(missing.code, 1);
      assert.match(missing.err, /^mms: no outbox message 999999 in tenant Contoso/);
    });

    it('Unregister-… says how many users were affected, even 0, and needs -RemoveDefaultServiceNumber for the bridge default, then warns', async () => {
      const none = await ok('Unregister-CsOnlineDialInConferencingServiceNumber', '-Identity', '+14255550101', '-BridgeName', 'Contoso US');
      assert.equal(none.out, '');
      assert.equal(none.err, 'mms: +14255550101 unassigned from bridge Contoso US: 0 user(s) affected, 0 queued for migration\n');

      const auditBefore = (await json('Get-MmsAuditLog')).length;
      const refused = await mms('Unregister-CsOnlineDialInConferencingServiceNumber', '-Identity', '+14255550100', '-BridgeName', 'Contoso US');
      assert.equal(refused.code, 1);
      assert.equal(refused.out, '');
      assert.match(refused.err, /^mms: \+14255550100 is the default toll number of bridge Contoso US: .*add -RemoveDefaultServiceNumber to unassign it anyway \(\+14255550102 becomes the default/);
      assert.equal(refused.err.split('\n').length, 2, 'one line');
      const [bridge] = await json('Get-CsOnlineDialInConferencingBridge', 'Contoso US');
      assert.equal(bridge?.['DefaultServiceNumber'], '+14255550100', 'the refused command changed the bridge');
      assert.equal((await json('Get-MmsAuditLog')).length, auditBefore);

      // ben has no licence: his meetings show no number. amy is back on Contoso US and shows its default.
      const r = await ok('Unregister-CsOnlineDialInConferencingServiceNumber', '-Identity', '+14255550100', '-BridgeName', 'Contoso US', '-RemoveDefaultServiceNumber', '--json');
      const rows = JSON.parse(r.out) as Row[];
      assert.deepEqual(rows.map((x) => [x['UserPrincipalName'], x['MeetingMigration']]), [['amy@contoso.com', 'Queued']]);
      assert.equal(r.err, [
        'mms: +14255550100 unassigned from bridge Contoso US: 1 user(s) affected, 1 queued for migration',
        'mms: warning: the default toll number of bridge Contoso US changed from +14255550100 to +14255550102; users without a number of their own now show it',
        '',
      ].join('\n'));
      const [after] = await json('Get-CsOnlineDialInConferencingBridge', 'Contoso US');
      assert.equal(after?.['DefaultServiceNumber'], '+14255550102');
      const summary = (await json('Get-MmsAuditLog')).at(-1) as Row;
      assert.equal(summary['Changes'], 'Number: +14255550100 → (none); DefaultTollNumber: +14255550100 → +14255550102');

      // The bridge's only toll-free number: no default of that kind is left.
      const tollFree = await mms('Unregister-CsOnlineDialInConferencingServiceNumber', '-Identity', '+18005550100', '-BridgeName', 'Contoso US');
      assert.equal(tollFree.code, 1);
      assert.match(tollFree.err, /^mms: \+18005550100 is the default toll-free number of bridge Contoso US: .*\(no toll-free number becomes the default/);
      const last = await ok('Unregister-CsOnlineDialInConferencingServiceNumber', '-Identity', '+18005550100', '-BridgeName', 'Contoso US', '-RemoveDefaultServiceNumber');
      assert.equal(last.err, [
        'mms: +18005550100 unassigned from bridge Contoso US: 1 user(s) affected, 1 queued for migration',
        'mms: warning: the default toll-free number of bridge Contoso US changed from +18005550100 to none; users without a number of their own now show no toll-free number',
        '',
      ].join('\n'));
    });

    it('a tenant setting given its current value exits 0 with "no change" and writes nothing; a new value says nothing more', async () => {
      const auditBefore = (await json('Get-MmsAuditLog')).length;
      const same = await ok('Set-CsTenantMigrationConfiguration', '-MeetingMigrationEnabled', 'true');
      assert.equal(same.err, 'mms: no change: MeetingMigrationEnabled is already True\n');
      assert.match(same.out, /^MeetingMigrationEnabled +: True$/m);
      const pin = await ok('Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', '5', '-AutomaticallyMigrateUserMeetings', 'true', '--json');
      assert.equal(pin.err, 'mms: no change: AutomaticallyMigrateUserMeetings is already True, PinLength is already 5\n');
      assert.equal((JSON.parse(pin.out) as Row)['PinLength'], 5, '--json stays the settings object');
      assert.equal((await json('Get-MmsAuditLog')).length, auditBefore, 'a re-applied setting wrote an audit row');

      const changed = await ok('Set-CsOnlineDialInConferencingTenantSettings', '-PinLength', '6');
      assert.equal(changed.err, '');
      const [row] = (await json('Get-MmsAuditLog')).slice(-1);
      assert.equal(row?.['Changes'], 'PinLength: 5 → 6');
    });
  });
}
