// Issue 7 §3: no listing cuts silently. Get-MmsOutbox stopped at 10,000 rows without a word (27,000 existed).
// Every listing cmdlet pages with -First / -Skip (PowerShell's names), shows 10,000 rows unless told otherwise,
// and when rows are left out says so in one line on stderr with the total the database counts; stdout (--json
// too) stays the plain array of rows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { REF, queueFixture, type QueueFixture } from './helpers/queue-fixture.js';
import { recordCopyDamage, recordMeetings } from '../src/store/ledger-repo.js';

const OUTBOX_ROWS = 10_050;

async function withQueue(database: TestDatabase, fn: (q: QueueFixture) => Promise<void>): Promise<void> {
  const q = await queueFixture(database, () => REF);
  try {
    await fn(q);
  } finally {
    await q.drop();
  }
}

/** 10,050 queued notifications of one migration and 7 applied ones of another, in a few multi-row inserts. */
async function fillOutbox(q: QueueFixture): Promise<void> {
  const organizerId = await q.userId('amy');
  const row = (i: number, state: 'Queued' | 'Applied') => ({
    tenant_id: q.tenantId, correlation_id: state === 'Queued' ? BULK : OTHER, organizer_id: organizerId, uid: `m${i}@contoso.com`,
    recipient: `guest${i}@fabrikam.example`, internal: state === 'Applied' ? 1 : 0, method: 'REQUEST' as const, state,
    message_id: null, created_at: REF + i, sent_at: null, last_error: null,
  });
  const rows = [...Array.from({ length: OUTBOX_ROWS }, (_, i) => row(i, 'Queued')), ...Array.from({ length: 7 }, (_, i) => row(OUTBOX_ROWS + i, 'Applied'))];
  // 12 columns: 2,500 rows a statement stay under SQLite's 32,766 parameters.
  for (let i = 0; i < rows.length; i += 2500) await q.db.kysely.insertInto('outbox').values(rows.slice(i, i + 2500)).execute();
}

// Correlation ids have the GUID form -CorrelationId accepts.
const BULK = '0b0b0b0b-0000-4000-8000-000000000001';
const OTHER = '0b0b0b0b-0000-4000-8000-000000000002';
const C1 = '0c0c0c0c-0000-4000-8000-000000000001';

const json = (stdout: string) => JSON.parse(stdout) as Array<Record<string, unknown>>;

for (const database of TEST_DATABASES) {
  describe(`${database.name}: listings page with -First/-Skip and never cut silently`, { skip: database.skip }, () => {
    it('Get-MmsOutbox shows 10,000 of 10,050 rows and says so with the database\'s count; -Skip and -First page through them', () =>
      withQueue(database, async (q) => {
        await fillOutbox(q);
        const first = await q.cli(['Get-MmsOutbox', '-State', 'Queued', '--json']);
        assert.equal(first.code, 0, first.stderr);
        const rows = json(first.stdout);
        assert.equal(rows.length, 10_000);
        assert.equal(first.stderr, `mms: Get-MmsOutbox showed rows 1-10000 of ${OUTBOX_ROWS}; see the rest with -Skip 10000 (and -First)\n`);
        assert.equal(rows[0]?.['Recipient'], 'guest0@fabrikam.example');
        assert.equal(rows[9_999]?.['Recipient'], 'guest9999@fabrikam.example');

        const rest = await q.cli(['Get-MmsOutbox', '-State', 'Queued', '-Skip', '10000', '--json']);
        assert.equal(rest.code, 0, rest.stderr);
        assert.deepEqual(json(rest.stdout).map((r) => r['Recipient']), Array.from({ length: 50 }, (_, i) => `guest${10_000 + i}@fabrikam.example`));
        assert.equal(rest.stderr, `mms: Get-MmsOutbox showed rows 10001-10050 of ${OUTBOX_ROWS}; rows 1-10000 were skipped (-Skip 10000)\n`);

        const page = await q.cli(['Get-MmsOutbox', '-First', '3', '-Skip', '20']);
        assert.equal(page.code, 0, page.stderr);
        assert.deepEqual(page.stdout.trim().split('\n').slice(2).map((l) => l.match(/guest\d+/)?.[0]), ['guest20', 'guest21', 'guest22']);
        assert.equal(page.stderr, `mms: Get-MmsOutbox showed rows 21-23 of ${OUTBOX_ROWS + 7}; see the rest with -Skip 23 (and -First)\n`);

        // Nothing left out: no line. The count follows the filter.
        const applied = await q.cli(['Get-MmsOutbox', '-State', 'Applied', '--json']);
        assert.deepEqual([applied.code, json(applied.stdout).length, applied.stderr], [0, 7, '']);
        const all = await q.cli(['Get-MmsOutbox', '-CorrelationId', OTHER, '-First', '7', '--json']);
        assert.deepEqual([all.code, json(all.stdout).length, all.stderr], [0, 7, '']);
        const past = await q.cli(['Get-MmsOutbox', '-State', 'Applied', '-Skip', '9', '--json']);
        assert.deepEqual([past.code, json(past.stdout), past.stderr], [0, [], 'mms: Get-MmsOutbox showed no rows of 7 (-Skip 9); rows 1-9 were skipped (-Skip 9)\n']);
        const bad = await q.cli(['Get-MmsOutbox', '-First', '-1']);
        assert.deepEqual([bad.code, bad.stdout, bad.stderr], [2, '', 'mms: -First -1 is negative; give 0 or more rows to show\n']);
      }));

    it('the status, transaction history, audit log and meeting listings page the same way, with the database\'s totals', () =>
      withQueue(database, async (q) => {
        const uids = await q.schedule('amy', 5);
        // Requests for five users: Get-CsMeetingMigrationStatus.
        const started = await q.cli(['Start-CsExMeetingMigration', '-Identity', 'amy@contoso.com,ben@contoso.com,dan@contoso.com,gus@contoso.com,hal@contoso.com', '--json']);
        assert.equal(started.code, 0, started.stderr);
        const allStatus = json((await q.cli(['Get-CsMeetingMigrationStatus', '--json'])).stdout);
        assert.equal(allStatus.length, 5);
        const status = await q.cli(['Get-CsMeetingMigrationStatus', '-First', '2', '-Skip', '1', '--json']);
        assert.deepEqual(json(status.stdout).map((r) => r['CorrelationId']), allStatus.slice(1, 3).map((r) => r['CorrelationId']));
        assert.equal(status.stderr, 'mms: Get-CsMeetingMigrationStatus showed rows 2-3 of 5; see the rest with -Skip 3 (and -First)\n');
        const props = await q.cli(['Get-CsMeetingMigrationStatus', '-Property', 'State', '-First', '1', '--json']);
        assert.deepEqual([json(props.stdout).length, props.stderr], [1, 'mms: Get-CsMeetingMigrationStatus showed rows 1-1 of 5; see the rest with -Skip 1 (and -First)\n']);
        const summary = await q.cli(['Get-CsMeetingMigrationStatus', '-SummaryOnly', '--json']);
        assert.deepEqual([summary.code, summary.stderr], [0, '']);

        // Transaction history: ledger rows and damaged-copy rows merge in time order, and page as one listing.
        const amy = await q.userId('amy');
        const at = (i: number) => REF + i * 1000;
        await recordMeetings(q.db.kysely, uids.map((uid, i) => ({
          correlationId: C1, tenantId: q.tenantId, userId: amy, uid, subject: `S${i}`, startTime: null, action: 'UpToDate' as const, reason: 'r', attendeesNotified: 0, at: at(2 * i), versionWritten: null, previousBlock: null,
        })));
        await recordCopyDamage(q.db.kysely, uids.slice(0, 2).map((uid, i) => ({
          correlationId: C1, tenantId: q.tenantId, userId: amy, uid, subject: `S${i}`, startTime: null, attendeeId: 'ben-id', attendee: 'ben@contoso.com',
          reason: 'AttendeeCopyDamaged: test', damagedIcs: 'x', versionWritten: 2, at: at(2 * i + 1),
        })));
        const history = await q.cli(['Get-CsMeetingMigrationTransactionHistory', 'amy@contoso.com', '-CorrelationId', C1, '-First', '3', '-Skip', '1', '--json']);
        assert.equal(history.code, 0, history.stderr);
        assert.deepEqual(json(history.stdout).map((r) => [r['Subject'], r['Action']]), [['S0', 'AttendeeCopyDamaged'], ['S1', 'UpToDate'], ['S1', 'AttendeeCopyDamaged']]);
        assert.equal(history.stderr, 'mms: Get-CsMeetingMigrationTransactionHistory showed rows 2-4 of 7; see the rest with -Skip 4 (and -First)\n');
        const tail = await q.cli(['Get-CsMeetingMigrationTransactionHistory', 'amy@contoso.com', '-CorrelationId', C1, '-Skip', '4', '--json']);
        assert.deepEqual(json(tail.stdout).map((r) => r['Subject']), ['S2', 'S3', 'S4']);

        // Audit log: the total is the database's count of the filter's rows.
        const audit = json((await q.cli(['Get-MmsAuditLog', '--json'])).stdout);
        assert.ok(audit.length > 3, `${audit.length} audit rows`);
        const auditPage = await q.cli(['Get-MmsAuditLog', '-First', '2', '-Skip', '1', '--json']);
        assert.deepEqual(json(auditPage.stdout), audit.slice(1, 3));
        assert.equal(auditPage.stderr, `mms: Get-MmsAuditLog showed rows 2-3 of ${audit.length}; see the rest with -Skip 3 (and -First)\n`);

        // A mailbox's meetings.
        const meetings = json((await q.cli(['Get-MmsMeeting', 'amy@contoso.com', '--json'])).stdout);
        assert.equal(meetings.length, 5);
        const meetingPage = await q.cli(['Get-MmsMeeting', 'amy@contoso.com', '-First', '2', '--json']);
        assert.deepEqual(json(meetingPage.stdout), meetings.slice(0, 2));
        assert.equal(meetingPage.stderr, 'mms: Get-MmsMeeting showed rows 1-2 of 5; see the rest with -Skip 2 (and -First)\n');
      }));

    it('mms help says how listings page and how a cut is announced', () =>
      withQueue(database, async (q) => {
        const help = await q.cli(['help']);
        assert.match(help.stdout, /show at most 10000 rows unless -First says otherwise; -Skip leaves rows out first/);
        assert.match(help.stdout, /A listing never cuts silently: when rows are left out, one line on stderr says which and how many/);
        for (const name of ['Get-MmsOutbox', 'Get-CsMeetingMigrationStatus', 'Get-CsMeetingMigrationTransactionHistory', 'Get-MmsAuditLog', 'Get-MmsMeeting']) {
          const page = await q.cli(['help', name]);
          assert.match(page.stdout, /-First <int>[\s\S]*-Skip <int>/, name);
        }
      }));
  });
}
