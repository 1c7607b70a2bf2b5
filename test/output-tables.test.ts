// Issue 9 §3, output that tells the whole story, on real command output against real SQLite and PostgreSQL:
// at 80 and 120 columns key columns (UPN, State, CorrelationId) are never cut — a table that does not fit even with
// its free-text columns narrowed prints as a list view ("Name : Value", a blank line between records); piped output
// is a whole table; Get-CsMeetingMigrationStatus shows CorrelationId, CreateDate, ModifiedDate and InvitesUpdate;
// -WhatIf prints its diff as lines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TEST_DATABASES } from './helpers/databases.js';
import { ACTOR } from './helpers/directory-fixture.js';
import { REF, withQueue, type QueueFixture } from './helpers/queue-fixture.js';
import { setDialInUser } from '../src/directory/index.js';
import { runCli } from '../src/cli/run-cli.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { cellText, displayWidth } from '../src/cli/format.js';

type Row = Record<string, unknown>;

/** A demo-like organizer whose UPN is longer than the fixture's. */
const LONG = 'lidia.holloway-marketing';
const STATUS_COLUMNS = [
  'UserPrincipalName', 'State', 'CorrelationId', 'CreateDate', 'ModifiedDate', 'TotalMeeting', 'SucceededMeeting', 'FailedMeeting',
  'SkippedMeeting', 'InvitesUpdate', 'QueuePosition', 'NotBefore', 'LastMessage',
];

/** `mms <argv>` with stdout a terminal `columns` wide (COLUMNS, as a shell sets it). */
async function tty(q: QueueFixture, columns: number, argv: readonly string[]): Promise<string> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => new Writable({ write(c, _e, done) { add(String(c)); done(); } });
  const code = await runCli([...argv], {
    stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), isTty: true, now: () => REF,
    env: { MMS_DATABASE_URL: q.url, MMS_ACTOR: ACTOR, TZ: 'UTC', COLUMNS: String(columns) },
  }, CMDLETS);
  assert.equal(err, '', `mms ${argv.join(' ')} at ${columns} columns wrote to stderr`);
  assert.equal(code, 0);
  return out;
}

async function ok(q: QueueFixture, argv: readonly string[]): Promise<string> {
  const r = await q.cli(argv);
  assert.equal(r.stderr, '', `mms ${argv.join(' ')}`);
  assert.equal(r.code, 0);
  return r.stdout;
}

const json = async (q: QueueFixture, argv: readonly string[]): Promise<Row[]> => JSON.parse(await ok(q, [...argv, '--json'])) as Row[];

/** A list view parsed: one map per record, in order, asserting each record's names are `columns` in order. */
function parseList(text: string, columns: readonly string[]): Array<Map<string, string>> {
  assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'));
  return text.slice(0, -1).split('\n\n').map((block) => {
    const lines = block.split('\n');
    const names = lines.map((l) => l.slice(0, l.indexOf(' : ') < 0 ? l.length - 2 : l.indexOf(' : ')).trim());
    assert.deepEqual(names, columns, `a record's names: ${block}`);
    return new Map(lines.map((l, i) => [names[i]!, l.includes(' : ') ? l.slice(l.indexOf(' : ') + 3) : '']));
  });
}

/** Two organizers (one with a long UPN) with migrated meetings; the status rows as --json gives them. */
async function migrated(q: QueueFixture, subject?: string): Promise<Row[]> {
  await ok(q, ['New-MmsUser', `${LONG}@contoso.com`, '-DisplayName', 'Lidia Holloway']);
  await q.schedule(LONG, 2, subject ? { subject } : {});
  await q.schedule('amy', 1);
  // A new conference ID for amy: her meeting's block changes and its attendees get an update (InvitesUpdate 1).
  await setDialInUser(q.ctx, q.tenantId, 'amy@contoso.com', { resetConferenceId: true });
  await ok(q, ['Start-CsExMeetingMigration', '-Identity', `${LONG}@contoso.com,amy@contoso.com`, '-Wait']);
  return json(q, ['Get-CsMeetingMigrationStatus']);
}

for (const database of TEST_DATABASES) {
  describe(`${database.name}: tables never cut key columns`, { skip: database.skip }, () => {
    it('Get-CsMeetingMigrationStatus at 80 and 120 columns: each request whole as a list view with CorrelationId, dates and InvitesUpdate', () =>
      withQueue(database, () => REF, async (q) => {
        const rows = await migrated(q);
        // Both requests were made at the same instant: their order is by CorrelationId, the same in every output.
        assert.deepEqual(rows.map((r) => [r.UserPrincipalName, r.State]).sort(), [['amy@contoso.com', 'Succeeded'], [`${LONG}@contoso.com`, 'Succeeded']]);
        for (const columns of [80, 120]) {
          const out = await tty(q, columns, ['Get-CsMeetingMigrationStatus']);
          assert.ok(!out.includes('…'), `nothing is cut at ${columns} columns:\n${out}`);
          const records = parseList(out, STATUS_COLUMNS);
          assert.equal(records.length, rows.length);
          records.forEach((rec, i) => {
            for (const c of STATUS_COLUMNS) assert.equal(rec.get(c), cellText(rows[i]![c], c), `${c} at ${columns} columns`);
          });
          assert.match(records[0]!.get('CorrelationId')!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
          assert.equal(records.find((m) => m.get('UserPrincipalName') === 'amy@contoso.com')?.get('InvitesUpdate'), '1', 'amy\'s meeting got a new conference ID: its attendees were sent an update');
          assert.match(records[0]!.get('CreateDate')!, /^2026-11-02T\d\d:\d\d:\d\d\.\d{3}Z$/);
        }
        // A terminal wide enough gets the table, every line within it; piped output is the whole table.
        const wide = await tty(q, 400, ['Get-CsMeetingMigrationStatus']);
        const piped = await ok(q, ['Get-CsMeetingMigrationStatus']);
        assert.equal(wide, piped);
        const [head, dashes, ...lines] = piped.trimEnd().split('\n');
        assert.deepEqual(head!.split(/\s+/), STATUS_COLUMNS);
        assert.match(dashes!, /^-+( +-+)+$/);
        assert.equal(lines.length, rows.length);
        lines.forEach((l, i) => {
          assert.ok(l.startsWith(`${rows[i]!.UserPrincipalName} `));
          assert.ok(l.includes(` ${rows[i]!.State} `) && l.includes(` ${rows[i]!.CorrelationId} `) && l.includes(` ${rows[i]!.CreateDate} `) && l.includes(` ${rows[i]!.ModifiedDate} `), l);
        });
      }));

    it('a table that fits with free text narrowed stays a table: key, number and date cells whole, text cut with …; narrower, a list view', () =>
      withQueue(database, () => REF, async (q) => {
        const subject = 'Quarterly business review with the marketing leadership team';
        await migrated(q, subject);
        const argv = ['Get-CsMeetingMigrationTransactionHistory', `${LONG}@contoso.com`];
        const rows = await json(q, argv);
        assert.equal(rows.length, 2);
        const out = await tty(q, 120, argv);
        const [head, , ...lines] = out.trimEnd().split('\n');
        assert.match(head!, /^Time +Subject +StartTime +Action +AttendeesNotified +Reason$/);
        for (const l of [head!, ...lines]) assert.ok(displayWidth(l) <= 120, `wider than 120: ${l}`);
        lines.forEach((l, i) => {
          const r = rows[i]!;
          assert.ok(l.startsWith(`${r.Time} `), `Time whole: ${l}`);
          for (const whole of [r.StartTime, r.Action, String(r.AttendeesNotified)]) assert.ok(l.includes(` ${whole} `) || l.endsWith(` ${whole}`), `${whole} whole in ${l}`);
          const shown = /^\S+ (.+?…) /.exec(l)?.[1];
          assert.ok(shown && `${r.Subject}`.startsWith(shown.slice(0, -1)) && shown.length >= 12, `Subject cut to at least 12 columns: ${l}`);
        });
        const narrow = await tty(q, 80, argv);
        assert.ok(!narrow.includes('…'));
        const records = parseList(narrow, ['Time', 'Subject', 'StartTime', 'Action', 'AttendeesNotified', 'Reason']);
        assert.deepEqual(records.map((m) => m.get('Subject')), rows.map((r) => r.Subject));
      }));

    it('Get-MmsAuditLog at 80 and 120 columns: who (Actor), what (Cmdlet) and whom (Target) are never cut', () =>
      withQueue(database, () => REF, async (q) => {
        await migrated(q);
        const rows = await json(q, ['Get-MmsAuditLog']);
        assert.ok(rows.some((r) => r.Target === `${LONG}@contoso.com`));
        for (const columns of [80, 120]) {
          const out = await tty(q, columns, ['Get-MmsAuditLog']);
          for (const r of rows) {
            for (const c of ['Cmdlet', 'Target']) assert.ok(out.includes(String(r[c])), `${c} ${String(r[c])} whole at ${columns} columns:\n${out}`);
          }
          for (const l of out.split('\n')) assert.ok(displayWidth(l) <= columns || !l.includes('…'), `a table line wider than ${columns}: ${l}`);
        }
      }));

    it('Start-CsExMeetingMigration -WhatIf prints a header per meeting and its diff as - and + lines; --json keeps Diff as text', () =>
      withQueue(database, () => REF, async (q) => {
        const uids = await q.schedule('amy', 2, { subject: 'Budget' });
        await setDialInUser(q.ctx, q.tenantId, 'amy@contoso.com', { resetConferenceId: true });
        const before = await json(q, ['Get-CsMeetingMigrationStatus']);
        const argv = ['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com', '-WhatIf'];
        const rows = await json(q, argv);
        assert.deepEqual(rows.map((r) => r.Uid), uids);
        const text = await ok(q, argv);
        const blocks = text.trimEnd().split('\n\n');
        assert.equal(blocks.length, rows.length);
        blocks.forEach((b, i) => {
          const r = rows[i]!;
          const [header, reason, ...diff] = b.split('\n');
          assert.equal(header, `amy@contoso.com | ${r.Subject} | ${r.StartTime} | ${r.Action}`);
          assert.equal(reason, `  Reason: ${r.Reason}`);
          assert.deepEqual(diff, String(r.Diff).split('\n').map((l) => `  ${l}`));
          assert.ok(diff.some((l) => l.startsWith('  - ')) && diff.some((l) => l.startsWith('  + ')), b);
        });
        assert.equal(await tty(q, 80, argv), text, 'a terminal gets the same lines');
        assert.deepEqual(await json(q, ['Get-CsMeetingMigrationStatus']), before, '-WhatIf wrote nothing');
        assert.equal(before.length, 1);
      }));
  });
}
