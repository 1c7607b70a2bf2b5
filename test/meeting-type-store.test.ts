// Issue 12 §1 where meetings are listed, on SQLite and PostgreSQL: the built-in store types each object on write
// (New-MmsMeeting, Import-MmsCalendar) and Get-MmsMeeting shows MeetingType; objects stored before migration 018
// are typed by it; the tenant's TeamsMeetingUrl is set with New-MmsTenant / Update-CsTenantMeetingUrl and is where
// converted meetings join; Get-CsMeetingMigrationTransactionHistory shows each meeting's type before and after.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { runMms } from './helpers/cli-run.js';
import { blockIn, eventsOf, march, withMigrationFixture, type MigrationFixture } from './helpers/migration-fixture.js';
import { exchangeTeamsMeeting, migrateAs, teamsLink } from './helpers/meeting-type-fixture.js';
import { buildEvent } from '../src/ical/index.js';
import { backfillMeetingTypes } from '../src/store/migrations/018-meeting-types.js';

const mms = (fx: MigrationFixture, ...argv: string[]) =>
  runMms({ MMS_DATABASE_URL: fx.url, MMS_MIGRATION_DELAY: '0', MMS_ACTOR: 'admin@contoso.com' }, () => fx.clock.now, argv);

async function json<T>(fx: MigrationFixture, ...argv: string[]): Promise<T> {
  const r = await mms(fx, ...argv, '--json');
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
  return JSON.parse(r.out) as T;
}

/** amy's mailbox: a meeting scheduled as the add-in does (Skype), Exchange's Teams meeting, a plain appointment. */
async function mailbox(fx: MigrationFixture) {
  const sfb = await fx.schedule({ subject: 'Review', start: march(10), uid: 'review@contoso.com', meetingId: 'RVW23456' });
  const teams = exchangeTeamsMeeting(fx.upn('amy'));
  await fx.importInto(['amy'], teams.ics);
  const lunch = buildEvent({ uid: 'lunch@contoso.com', summary: 'Lunch', start: march(11, 12), end: march(11, 13), organizer: { address: fx.upn('amy') }, attendees: [], description: 'At the canteen', dtstamp: fx.clock.now });
  await fx.importInto(['amy'], lunch);
  return { sfb: sfb.uid, teams: teams.uid, lunch: 'lunch@contoso.com' };
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: meeting types where meetings are listed`, { skip: t.skip }, () => {
    it('Get-MmsMeeting shows MeetingType: SfB for an add-in meeting, Teams for Exchange\'s Teams meeting, empty for an appointment', () =>
      withMigrationFixture(t, async (fx) => {
        const uids = await mailbox(fx);
        const rows = await json<Array<{ Uid: string; MeetingType: string }>>(fx, 'Get-MmsMeeting', '-Identity', fx.upn('amy'));
        assert.deepEqual(Object.fromEntries(rows.map((r) => [r.Uid, r.MeetingType])), { [uids.sfb]: 'SfB', [uids.teams]: 'Teams', [uids.lunch]: '' });
        const table = await mms(fx, 'Get-MmsMeeting', '-Identity', fx.upn('amy'));
        assert.equal(table.code, 0, table.err);
        assert.match(table.out.split('\n')[0] ?? '', /MeetingType/, 'the default view has the column');
        const copy = await fx.get('ben', uids.sfb);
        assert.equal(copy.meetingType, 'SfB', 'an attendee\'s copy is typed too');
      }));

    it('migration 018 types the objects stored before it from their text', () =>
      withMigrationFixture(t, async (fx) => {
        const uids = await mailbox(fx);
        await fx.db.kysely.updateTable('calendar_objects').set({ meeting_type: null }).execute();
        assert.equal((await fx.get('amy', uids.sfb)).meetingType, null);
        await backfillMeetingTypes(fx.db.kysely);
        assert.deepEqual([(await fx.get('amy', uids.sfb)).meetingType, (await fx.get('amy', uids.teams)).meetingType, (await fx.get('amy', uids.lunch)).meetingType], ['SfB', 'Teams', null]);
      }));

    it('TeamsMeetingUrl: Update-CsTenantMeetingUrl -TeamsMeetingUrl alone keeps MeetingUrl; converted meetings join on it; history shows both types', () =>
      withMigrationFixture(t, async (fx) => {
        const uids = await mailbox(fx);
        const bad = await mms(fx, 'Update-CsTenantMeetingUrl', '-TeamsMeetingUrl', 'teams contoso');
        assert.notEqual(bad.code, 0);
        assert.match(bad.err, /TeamsMeetingUrl 'teams contoso' is not a URL: write it like https:\/\//);
        const set = await json<{ MeetingUrl: string; TeamsMeetingUrl: string }>(fx, 'Update-CsTenantMeetingUrl', '-TeamsMeetingUrl', 'https://teams.contoso.com/join/');
        assert.deepEqual([set.MeetingUrl, set.TeamsMeetingUrl], ['https://meet.contoso.com', 'https://teams.contoso.com/join']);
        const amy = await fx.user('amy');
        const request = await migrateAs(fx, 'SfbToTeams');
        assert.equal(request.state, 'Succeeded', request.lastMessage);
        const link = teamsLink('RVW23456', fx.tenant.id, amy.id, 'https://teams.contoso.com/join');
        assert.equal(blockIn(eventsOf((await fx.get('amy', uids.sfb)).ics)[0]!.get('DESCRIPTION')).split('\n')[3], link);
        assert.equal((await fx.get('amy', uids.sfb)).meetingType, 'Teams', 'a link on the tenant\'s own Teams host is a Teams link');
        const history = await json<Array<{ Uid: string; Action: string; MeetingType: string; NewMeetingType: string; Reason: string }>>(
          fx, 'Get-CsMeetingMigrationTransactionHistory', '-Identity', fx.upn('amy'), '-CorrelationId', request.correlationId);
        assert.deepEqual(history.map((h) => [h.Uid, h.Action, h.MeetingType, h.NewMeetingType, h.Reason.split(':')[0]]), [[uids.sfb, 'Updated', 'SfB', 'Teams', 'ConvertedToTeams']]);
        const rows = await json<Array<{ Uid: string; MeetingType: string }>>(fx, 'Get-MmsMeeting', '-Identity', fx.upn('amy'));
        assert.deepEqual(Object.fromEntries(rows.map((r) => [r.Uid, r.MeetingType])), { [uids.sfb]: 'Teams', [uids.teams]: 'Teams', [uids.lunch]: '' });
      }));

    it('New-MmsTenant -TeamsMeetingUrl sets it; without it the tenant gets Teams\' own', () =>
      withMigrationFixture(t, async (fx) => {
        const made = await json<{ TeamsMeetingUrl: string }>(fx, 'New-MmsTenant', '-Name', 'Fabrikam', '-Domain', 'fabrikam.com', '-TeamsMeetingUrl', 'https://teams.fabrikam.com/meet');
        assert.equal(made.TeamsMeetingUrl, 'https://teams.fabrikam.com/meet');
        const plain = await json<{ TeamsMeetingUrl: string }>(fx, 'New-MmsTenant', '-Name', 'Tailspin', '-Domain', 'tailspin.com');
        assert.equal(plain.TeamsMeetingUrl, 'https://teams.microsoft.com/l/meetup-join');
        assert.equal((await fx.currentTenant()).teamsMeetingUrl, 'https://teams.microsoft.com/l/meetup-join');
      }));
  });
}
