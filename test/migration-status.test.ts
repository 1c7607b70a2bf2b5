// Get-CsMeetingMigrationStatus on a real database with the test's own clock: the reference's fields and ours with
// the values of real runs, the queue position and run time of Pending requests, -SummaryOnly counting each user
// once, -StartTime/-EndTime in ISO 8601 and the docs' "10/1/2016" form, -Property (LastErrorMessage accepted),
// -Identity/-UserId and -State — the options through `mms … --json`, as an admin's script would call them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { MIGRATION_DELAY_MS as DELAY } from './helpers/directory-fixture.js';
import { REF, SECOND, withQueue, type QueueFixture } from './helpers/queue-fixture.js';
import { setDialInUser } from '../src/directory/index.js';
import { DEFAULT_RETRY, STATUS_FIELDS, migrationStatus, startMigration } from '../src/migration/index.js';
import { claimRequests } from '../src/store/queue-repo.js';

/** The reference's fields in its order, then ours. */
const FIELDS = [
  'CorrelationId', 'UserId', 'UserPrincipalName', 'State', 'MigrationType', 'CreateDate', 'ModifiedDate', 'RetryCount',
  'TotalMeeting', 'SucceededMeeting', 'FailedMeeting', 'InvitesUpdate', 'LastMessage',
  'SkippedMeeting', 'TriggerReasons', 'NotBefore', 'QueuePosition',
];

const ON_PREMISES_MESSAGE = (upn: string) =>
  `the mailbox of ${upn} is on-premises, out of MMS's reach: use manual migration (Invoke-MmsMeetingMigrationTool, the Meeting Migration Tool) or move the mailbox online, then run Start-CsExMeetingMigration`;

type Row = Record<string, unknown>;

/** `mms <argv> --json`, which must succeed; its parsed output. */
async function json(q: QueueFixture, ...argv: string[]): Promise<Row[]> {
  const r = await q.cli([...argv, '--json']);
  assert.equal(r.stderr, '', `mms ${argv.join(' ')} wrote to stderr`);
  assert.equal(r.code, 0);
  return JSON.parse(r.stdout) as Row[];
}

/** Start-CsExMeetingMigration for one user at the fixture clock's time; the new (or merged) request's id. */
async function start(q: QueueFixture, name: string, now: () => number): Promise<string> {
  const [r] = await startMigration(q.db, q.fx.tenant, [q.upn(name)], { actor: 'admin@contoso.com', now });
  assert.equal(r?.status, 'Queued', r?.status === 'Failed' ? r.reason : undefined);
  return r?.status === 'Queued' ? r.correlationId : '';
}

/** Moves a user's mailbox (Exchange does this; no MMS cmdlet does). */
async function mailbox(q: QueueFixture, name: string, location: 'Online' | 'OnPremises'): Promise<void> {
  await q.db.kysely.updateTable('users').set({ mailbox_location: location }).where('id', '=', await q.userId(name)).execute();
}

const pick = (rows: readonly Row[], ...keys: string[]) => rows.map((r) => keys.map((k) => r[k]));

it('Get-CsMeetingMigrationStatus lists the reference fields in its order, then SkippedMeeting, TriggerReasons, NotBefore and QueuePosition', () => {
  assert.deepEqual([...STATUS_FIELDS], FIELDS);
});

for (const database of TEST_DATABASES) {
  describe(`${database.name}: Get-CsMeetingMigrationStatus, the fields`, { skip: database.skip }, () => {
    it('a finished request shows every field with the values of its run', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 2);
        await q.schedule('amy', 1, { firstStart: REF - 3 * 86_400_000, subject: 'last week' });
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        t = REF + DELAY;
        assert.equal(await q.worker('worker-1').runOnce(), true);

        const rows = await migrationStatus(q.db, q.fx.tenant);
        assert.deepEqual(rows.map((r) => Object.keys(r)), [FIELDS]);
        assert.deepEqual(rows, [{
          CorrelationId: change.correlationId,
          UserId: await q.userId('amy'),
          UserPrincipalName: 'amy@contoso.com',
          State: 'Succeeded',
          MigrationType: 'ToSameType',
          CreateDate: REF,
          ModifiedDate: REF + DELAY,
          RetryCount: 0,
          TotalMeeting: 3,
          SucceededMeeting: 2,
          FailedMeeting: 0,
          InvitesUpdate: 2,
          LastMessage: '2 updated, 0 already current, 1 skipped',
          SkippedMeeting: 1,
          TriggerReasons: ['ConferenceIdChanged'],
          NotBefore: null,
          QueuePosition: null,
        }]);
      });
    });

    it('mms Get-CsMeetingMigrationStatus --json prints the same fields, dates in ISO 8601 UTC', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 2);
        const change = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        t = REF + DELAY;
        assert.equal(await q.worker('worker-1').runOnce(), true);
        t = REF + DELAY + 60 * SECOND; // the admin looks a minute later

        const rows = await json(q, 'Get-CsMeetingMigrationStatus');
        assert.deepEqual(rows.map((r) => Object.keys(r)), [FIELDS]);
        assert.deepEqual(rows, [{
          CorrelationId: change.correlationId,
          UserId: await q.userId('amy'),
          UserPrincipalName: 'amy@contoso.com',
          State: 'Succeeded',
          MigrationType: 'ToSameType',
          CreateDate: '2026-11-02T09:00:00.000Z',
          ModifiedDate: '2026-11-02T09:00:05.000Z',
          RetryCount: 0,
          TotalMeeting: 2,
          SucceededMeeting: 2,
          FailedMeeting: 0,
          InvitesUpdate: 2,
          LastMessage: '2 updated, 0 already current, 0 skipped',
          SkippedMeeting: 0,
          TriggerReasons: ['ConferenceIdChanged'],
          NotBefore: null,
          QueuePosition: null,
        }]);
      });
    });

    it('a request waiting to retry shows its RetryCount, its retry time as NotBefore and a LastMessage saying it will retry', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        await q.db.kysely.schema.alterTable('outbox').renameTo('outbox_hidden').execute();
        t = REF + DELAY;
        assert.equal(await q.worker('worker-1', { random: () => 0 }).runOnce(), true);
        await q.db.kysely.schema.alterTable('outbox_hidden').renameTo('outbox').execute();

        const retryAt = REF + DELAY + 0.8 * DEFAULT_RETRY.baseMs;
        const missing = database.name === 'sqlite' ? 'no such table: outbox' : 'relation "outbox" does not exist';
        const [row] = await migrationStatus(q.db, q.fx.tenant);
        assert.deepEqual(
          [row?.State, row?.RetryCount, row?.NotBefore, row?.QueuePosition, row?.LastMessage],
          ['Pending', 1, retryAt, 1, `attempt 1 failed, retrying at ${new Date(retryAt).toISOString()}: ${missing}`],
        );
      });
    });

    it('Pending requests show QueuePosition 1..n in NotBefore order and when they run; other states show neither', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        const worker = q.worker('worker-1');
        const jon = await start(q, 'jon', () => t);
        assert.equal(await worker.runOnce([jon]), true);
        t = REF + SECOND;
        await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true }); // runs at +6 s
        t = REF + 2 * SECOND;
        await setDialInUser(q.ctx, q.tenantId, q.upn('gus'), { resetConferenceId: true }); // runs at +7 s
        t = REF + 3 * SECOND;
        await start(q, 'ben', () => t); // runs at once: +3 s
        t = REF + 4 * SECOND;
        const dan = await start(q, 'dan', () => t);
        const [claimed] = await claimRequests(q.db, 'worker-2', t, 60_000, 1, [dan]);
        assert.equal(claimed?.correlationId, dan);

        const expected = [
          ['jon@contoso.com', 'Succeeded', null, null],
          ['amy@contoso.com', 'Pending', REF + SECOND + DELAY, 2],
          ['gus@contoso.com', 'Pending', REF + 2 * SECOND + DELAY, 3],
          ['ben@contoso.com', 'Pending', REF + 3 * SECOND, 1],
          ['dan@contoso.com', 'InProgress', null, null],
        ];
        assert.deepEqual(pick(await migrationStatus(q.db, q.fx.tenant), 'UserPrincipalName', 'State', 'NotBefore', 'QueuePosition'), expected);
        assert.deepEqual(
          pick(await json(q, 'Get-CsMeetingMigrationStatus', '-State', 'Pending'), 'UserPrincipalName', 'QueuePosition'),
          [['amy@contoso.com', 2], ['gus@contoso.com', 3], ['ben@contoso.com', 1]],
        );

        // ben's turn comes first; the others move up.
        t = REF + 10 * SECOND;
        assert.equal(await worker.runOnce(), true);
        assert.deepEqual(pick(await migrationStatus(q.db, q.fx.tenant), 'UserPrincipalName', 'State', 'QueuePosition'), [
          ['jon@contoso.com', 'Succeeded', null],
          ['amy@contoso.com', 'Pending', 1],
          ['gus@contoso.com', 'Pending', 2],
          ['ben@contoso.com', 'Succeeded', null],
          ['dan@contoso.com', 'InProgress', null],
        ]);
      });
    });

    it('NotBefore prints as an ISO 8601 time, like CreateDate, so the admin can read when a request runs', () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        const rows = await json(q, 'Get-CsMeetingMigrationStatus', '-Property', 'CreateDate,NotBefore,QueuePosition');
        assert.deepEqual(rows, [{ CreateDate: '2026-11-02T09:00:00.000Z', NotBefore: '2026-11-02T09:00:05.000Z', QueuePosition: 1 }]);
      });
    });
  });

  describe(`${database.name}: Get-CsMeetingMigrationStatus -SummaryOnly`, { skip: database.skip }, () => {
    it('counts each user once, by their latest request, in every state', () => {
      let t = REF;
      return withQueue(database, () => t, async (q) => {
        await q.schedule('amy', 1);
        const worker = q.worker('worker-1');
        const amy1 = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
        t = REF + SECOND;
        const gus1 = await start(q, 'gus', () => t);
        await mailbox(q, 'gus', 'OnPremises');
        assert.equal(await worker.runOnce([gus1]), true);
        t = REF + 2 * SECOND;
        const ben = await start(q, 'ben', () => t);
        await mailbox(q, 'ben', 'OnPremises');
        assert.equal(await worker.runOnce([ben]), true);
        t = REF + 3 * SECOND;
        const ivy = await start(q, 'ivy', () => t);
        assert.equal(await worker.runOnce([ivy]), true);
        t = REF + DELAY;
        assert.equal(await worker.runOnce([amy1.correlationId ?? '']), true);
        t = REF + 10 * SECOND;
        await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { bridgeName: 'Contoso EU' }); // amy's newer request waits
        t = REF + 20 * SECOND;
        await mailbox(q, 'gus', 'Online');
        const gus2 = await start(q, 'gus', () => t);
        assert.equal(await worker.runOnce([gus2]), true);
        t = REF + 30 * SECOND;
        const dan = await start(q, 'dan', () => t);
        await claimRequests(q.db, 'worker-2', t, 60_000, 1, [dan]);

        // Requests: Succeeded amy, ivy, gus; Failed gus, ben; Pending amy; InProgress dan.
        assert.deepEqual(pick(await json(q, 'Get-CsMeetingMigrationStatus'), 'UserPrincipalName', 'State'), [
          ['amy@contoso.com', 'Succeeded'],
          ['gus@contoso.com', 'Failed'],
          ['ben@contoso.com', 'Failed'],
          ['ivy@contoso.com', 'Succeeded'],
          ['amy@contoso.com', 'Pending'],
          ['gus@contoso.com', 'Succeeded'],
          ['dan@contoso.com', 'InProgress'],
        ]);
        assert.deepEqual(await json(q, 'Get-CsMeetingMigrationStatus', '-SummaryOnly'), [
          { State: 'Pending', UserCount: 1 },
          { State: 'InProgress', UserCount: 1 },
          { State: 'Failed', UserCount: 1 },
          { State: 'Succeeded', UserCount: 2 },
        ]);
        assert.deepEqual(await json(q, 'Get-CsMeetingMigrationStatus', '-SummaryOnly', '-State', 'Failed'), [{ State: 'Failed', UserCount: 1 }]);
        assert.deepEqual(await json(q, 'Get-CsMeetingMigrationStatus', '-SummaryOnly', '-Identity', 'gus@contoso.com'), [
          { State: 'Pending', UserCount: 0 },
          { State: 'InProgress', UserCount: 0 },
          { State: 'Failed', UserCount: 0 },
          { State: 'Succeeded', UserCount: 1 },
        ]);
        const table = await q.cli(['Get-CsMeetingMigrationStatus', '-SummaryOnly']);
        assert.equal(table.code, 0, table.stderr);
        assert.equal(table.stdout, 'State      UserCount\n-----      ---------\nPending            1\nInProgress         1\nFailed             1\nSucceeded          2\n');
      });
    });
  });

  describe(`${database.name}: Get-CsMeetingMigrationStatus -StartTime and -EndTime`, { skip: database.skip }, () => {
    const SEP30 = Date.UTC(2026, 8, 30, 12, 0);
    const OCT1 = Date.UTC(2026, 9, 1, 0, 0);
    const OCT8_LATE = Date.UTC(2026, 9, 8, 23, 59);

    /** Four Pending requests created on 30 Sep 12:00, 1 Oct 00:00, 8 Oct 23:59 and 2 Nov 09:00 (UTC). */
    async function fourDates(q: QueueFixture, clock: { set(v: number): void; now: () => number }): Promise<void> {
      for (const [name, at] of [['amy', SEP30], ['gus', OCT1], ['ben', OCT8_LATE], ['dan', REF]] as const) {
        clock.set(at);
        await start(q, name, clock.now);
      }
    }
    const upns = (rows: readonly Row[]) => rows.map((r) => r.UserPrincipalName);

    it('filter on CreateDate, both ends inclusive, in the docs\' "10/1/2026" form and in ISO 8601', () => {
      let t = SEP30 - 3_600_000;
      const clock = { set: (v: number) => void (t = v), now: () => t };
      return withQueue(database, clock.now, async (q) => {
        await fourDates(q, clock);
        const get = async (...argv: string[]) => upns(await json(q, 'Get-CsMeetingMigrationStatus', ...argv));
        assert.deepEqual(await get('-StartTime', '10/1/2026'), ['gus@contoso.com', 'ben@contoso.com', 'dan@contoso.com']);
        // A date alone as -EndTime covers that whole day (issue 9 §4): ben, created 8 Oct 23:59, is in.
        assert.deepEqual(await get('-StartTime', '2026-10-01', '-EndTime', '10/8/2026'), ['gus@contoso.com', 'ben@contoso.com']);
        assert.deepEqual(await get('-StartTime', '2026-10-01', '-EndTime', '2026-10-08T00:00:00Z'), ['gus@contoso.com']);
        assert.deepEqual(await get('-StartTime', '10/1/2026', '-EndTime', '10/8/2026 11:59 PM'), ['gus@contoso.com', 'ben@contoso.com']);
        assert.deepEqual(await get('-EndTime', '2026-09-30T12:00:00Z'), ['amy@contoso.com']);
        assert.deepEqual(await get('-StartTime', '2026-10-01T02:00+02:00', '-EndTime', '2026-10-01T02:00+02:00'), ['gus@contoso.com']);
        assert.deepEqual(await get('-StartTime', '2026-10-01T00:00:00.001Z'), ['ben@contoso.com', 'dan@contoso.com']);
        assert.deepEqual(await get('-StartTime', '11/3/2026'), []);
        assert.deepEqual(await json(q, 'Get-CsMeetingMigrationStatus', '-SummaryOnly', '-StartTime', '10/1/2026', '-EndTime', '10/31/2026'), [
          { State: 'Pending', UserCount: 2 },
          { State: 'InProgress', UserCount: 0 },
          { State: 'Failed', UserCount: 0 },
          { State: 'Succeeded', UserCount: 0 },
        ]);
      });
    });

    it('a date in neither form is refused with exit code 2 and a message naming the forms accepted', () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        const r = await q.cli(['Get-CsMeetingMigrationStatus', '-StartTime', '2026/10/01', '--json']);
        assert.deepEqual([r.code, r.stdout], [2, '']);
        assert.equal(
          r.stderr,
          'mms: -StartTime expects a date such as 2016-10-01, 2016-10-01T14:30:00Z, 2016-10-01T14:30+02:00 or 10/1/2016 2:30 PM (no zone = UTC), not "2026/10/01"\n',
        );
      });
    });
  });

  describe(`${database.name}: Get-CsMeetingMigrationStatus -Property, -Identity and -State`, { skip: database.skip }, () => {
    /** amy: one Succeeded request then one Pending; ben: one Failed (his mailbox moved on-premises). */
    async function twoUsers(q: QueueFixture, clock: { set(v: number): void; now: () => number }) {
      await q.schedule('amy', 2);
      const worker = q.worker('worker-1');
      const first = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { resetConferenceId: true });
      clock.set(REF + SECOND);
      const ben = await start(q, 'ben', clock.now);
      await mailbox(q, 'ben', 'OnPremises');
      assert.equal(await worker.runOnce([ben]), true);
      clock.set(REF + DELAY);
      assert.equal(await worker.runOnce([first.correlationId ?? '']), true);
      clock.set(REF + 10 * SECOND);
      const second = await setDialInUser(q.ctx, q.tenantId, q.upn('amy'), { bridgeName: 'Contoso EU' });
      return { amy1: first.correlationId, amy2: second.correlationId, ben };
    }

    it('-Property shows the fields asked for, in that order, and accepts LastErrorMessage for LastMessage', () => {
      let t = REF;
      const clock = { set: (v: number) => void (t = v), now: () => t };
      return withQueue(database, clock.now, async (q) => {
        await twoUsers(q, clock);
        assert.deepEqual(await json(q, 'Get-CsMeetingMigrationStatus', '-Property', 'UserPrincipalName,State,LastErrorMessage'), [
          { UserPrincipalName: 'amy@contoso.com', State: 'Succeeded', LastMessage: '2 updated, 0 already current, 0 skipped' },
          { UserPrincipalName: 'ben@contoso.com', State: 'Failed', LastMessage: ON_PREMISES_MESSAGE('ben@contoso.com') },
          { UserPrincipalName: 'amy@contoso.com', State: 'Pending', LastMessage: '' },
        ]);
        const lower = await json(q, 'Get-CsMeetingMigrationStatus', '-State', 'Failed', '-Property', 'lasterrormessage,retrycount');
        assert.deepEqual(lower, [{ LastMessage: ON_PREMISES_MESSAGE('ben@contoso.com'), RetryCount: 1 }]);
        assert.deepEqual(lower.map((r) => Object.keys(r)), [['LastMessage', 'RetryCount']]);

        const table = await q.cli(['Get-CsMeetingMigrationStatus', '-State', 'Succeeded', '-Property', 'UserPrincipalName,State,LastErrorMessage']);
        assert.equal(table.code, 0, table.stderr);
        assert.equal(
          table.stdout,
          'UserPrincipalName State     LastMessage\n----------------- -----     -----------\namy@contoso.com   Succeeded 2 updated, 0 already current, 0 skipped\n',
        );
      });
    });

    it('-Property with a name that is not a field is refused with exit code 2 and the list of fields', () => {
      const t = REF;
      return withQueue(database, () => t, async (q) => {
        const r = await q.cli(['Get-CsMeetingMigrationStatus', '-Property', 'State,ErrorDetail', '--json']);
        assert.deepEqual([r.code, r.stdout], [2, '']);
        assert.equal(r.stderr, `mms: -Property ErrorDetail is not a field of Get-CsMeetingMigrationStatus: use ${FIELDS.join(', ')}\n`);
      });
    });

    it("-Identity, its alias -UserId and the position all show one user's requests; -State narrows to one state", () => {
      let t = REF;
      const clock = { set: (v: number) => void (t = v), now: () => t };
      return withQueue(database, clock.now, async (q) => {
        const { amy1, amy2, ben } = await twoUsers(q, clock);
        const ids = (rows: readonly Row[]) => rows.map((r) => [r.CorrelationId, r.State]);
        const amy = [[amy1, 'Succeeded'], [amy2, 'Pending']];
        assert.deepEqual(ids(await json(q, 'Get-CsMeetingMigrationStatus', '-Identity', 'amy@contoso.com')), amy);
        assert.deepEqual(ids(await json(q, 'Get-CsMeetingMigrationStatus', '-UserId', 'sip:amy@contoso.com')), amy);
        assert.deepEqual(ids(await json(q, 'Get-CsMeetingMigrationStatus', 'AMY@contoso.com')), amy);
        assert.deepEqual(ids(await json(q, 'Get-CsMeetingMigrationStatus', '-UserId', 'amy@contoso.com', '-State', 'Pending')), [[amy2, 'Pending']]);
        assert.deepEqual(ids(await json(q, 'Get-CsMeetingMigrationStatus', '-State', 'Failed')), [[ben, 'Failed']]);
        assert.deepEqual(await json(q, 'Get-CsMeetingMigrationStatus', '-State', 'InProgress'), []);

        const r = await q.cli(['Get-CsMeetingMigrationStatus', '-Identity', 'zed@contoso.com', '--json']);
        assert.deepEqual([r.code, r.stdout], [1, '']);
        assert.equal(r.stderr, "mms: no user 'zed@contoso.com' in tenant Contoso: check the UserPrincipalName or SIP address (Get-CsOnlineDialInConferencingUser lists users)\n");
      });
    });
  });
}
