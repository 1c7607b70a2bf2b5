// Issue 12 §2 (engine): a request's MigrationType says which meetings it touches and what they become. SfbToTeams
// replaces the whole Skype block of each of the organizer's future Skype meetings — master and every exception, in
// her mailbox and her attendees' copies — with a Teams block (Teams join link on the tenant's TeamsMeetingUrl, the
// same dial-in), keeps every byte outside the block, announces it once by iTIP REQUEST, records the conversion in
// the history and the type in the store, and never converts a meeting twice; Teams meetings stay Teams. Requests
// are started through startMigration (the internal start path) on the built-in store, on SQLite and PostgreSQL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import {
  blockIn, EXTERNAL, eventsOf, expectedBlock, linesOutsideBlock, march, NEW_CONFERENCE_ID, withMigrationFixture, type MigrationFixture,
} from './helpers/migration-fixture.js';
import { dialInLines, exchangeTeamsMeeting, expectedTeamsBlock, migrateAs, readWithPython, teamsLink, withExceptions } from './helpers/meeting-type-fixture.js';
import { assertValidItip } from './helpers/libical.js';
import { listMeetings } from '../src/meetings/index.js';
import { undoMigration } from '../src/migration/index.js';
import { changeTenantSettings } from '../src/directory/index.js';

const SKYPE = (id: string) => `https://meet.contoso.com/amy/${id}`;
const BEFORE = 'Agenda: Q1 budget — 会議 🎉 שלום e\u0301\n';
const AFTER = '\nAfter the block: ✅ naïve 👋🏽';

/** amy's world: a Skype meeting with text around its block, a Skype series with exceptions, a Teams meeting from Exchange. */
async function world(fx: MigrationFixture) {
  const one = await fx.addInIcs({ uid: 'one@contoso.com', subject: 'Budget 🎉', start: march(10), before: BEFORE, after: AFTER, meetingId: 'ONE23456', attendees: ['ben', EXTERNAL.xena] });
  await fx.importInto(['amy', 'ben'], one);
  const master = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly 1:1', start: Date.UTC(2025, 1, 17, 10), rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=8', meetingId: 'WKL23456', attendees: ['ben', EXTERNAL.xena] });
  await fx.importInto(['amy', 'ben'], withExceptions(master));
  const teams = exchangeTeamsMeeting(fx.upn('amy'));
  await fx.importInto(['amy'], teams.ics);
  const amy = await fx.user('amy');
  return { teams, amy, link: (id: string) => teamsLink(id, fx.tenant.id, amy.id) };
}

const types = async (fx: MigrationFixture, name = 'amy') =>
  Object.fromEntries((await listMeetings(fx.db, fx.tenant.id, fx.address(name), {}, () => fx.clock.now)).map((m) => [m.Uid, m.MeetingType]));

const historyOf = async (fx: MigrationFixture, correlationId: string) =>
  (await fx.history(correlationId)).map((r) => {
    const x = r as typeof r & { MeetingType: string; NewMeetingType: string };
    return [x.Uid, x.Action, x.Reason.split(':')[0], x.MeetingType, x.NewMeetingType];
  }).sort();

/** The join link Teams made for a meeting as Exchange exported it: what a Teams meeting keeps. */
const ownLink = (ics: string): string => eventsOf(ics)[0]!.get('X-MICROSOFT-SKYPETEAMSMEETINGURL') ?? assert.fail('the Exchange export has no join link');

for (const t of TEST_DATABASES) {
  describe(`${t.name}: converting Skype meetings to Teams meetings (built-in store)`, { skip: t.skip }, () => {
    it('SfbToTeams converts each Skype meeting once, master and exceptions, copies too; everything outside the block stays; Teams meetings are not touched', () =>
      withMigrationFixture(t, async (fx) => {
        const { teams, link } = await world(fx);
        assert.deepEqual(await types(fx), { 'one@contoso.com': 'SfB', 'weekly@contoso.com': 'SfB', [teams.uid]: 'Teams' });
        const before = {
          amy: { one: await fx.get('amy', 'one@contoso.com'), weekly: await fx.get('amy', 'weekly@contoso.com'), teams: await fx.get('amy', teams.uid) },
          ben: { one: await fx.get('ben', 'one@contoso.com'), weekly: await fx.get('ben', 'weekly@contoso.com') },
        };
        const request = await migrateAs(fx, 'SfbToTeams');
        assert.equal(request.state, 'Succeeded', request.lastMessage);
        assert.equal(request.migrationType, 'SfbToTeams');
        // The Teams meeting is not this request's: not counted, no history row (README "The migration engine").
        assert.deepEqual([request.totalMeeting, request.succeededMeeting, request.skippedMeeting, request.failedMeeting, request.invitesUpdate], [2, 2, 0, 0, 2]);
        assert.deepEqual(await historyOf(fx, request.correlationId), [
          ['one@contoso.com', 'Updated', 'ConvertedToTeams', 'SfB', 'Teams'],
          ['weekly@contoso.com', 'Updated', 'ConvertedToTeams', 'SfB', 'Teams'],
        ]);

        for (const [uid, id] of [['one@contoso.com', 'ONE23456'], ['weekly@contoso.com', 'WKL23456']] as const) {
          for (const name of ['amy', 'ben'] as const) {
            const was = before[name][uid === 'one@contoso.com' ? 'one' : 'weekly'];
            const now = await fx.get(name, uid);
            assert.equal(now.meetingType, 'Teams', `${name}'s ${uid} is stored as a Teams meeting`);
            const oldEvents = eventsOf(was.ics);
            const events = eventsOf(now.ics);
            assert.deepEqual(events.map((e) => e.recurrenceId), oldEvents.map((e) => e.recurrenceId));
            events.forEach((e, i) => {
              const old = oldEvents[i]!;
              const oldBlock = blockIn(old.get('DESCRIPTION'));
              const block = blockIn(e.get('DESCRIPTION'));
              const where = `${name} ${uid} ${e.recurrenceId ?? 'master'}`;
              // The whole Skype block became a Teams block with the same dial-in lines.
              assert.equal(block, expectedTeamsBlock(link(id), dialInLines(oldBlock, SKYPE(id))), where);
              assert.equal(e.get('DESCRIPTION'), old.get('DESCRIPTION')!.replace(oldBlock, block), `${where}: text around the block kept`);
              assert.equal(e.get('X-MICROSOFT-SKYPETEAMSMEETINGURL'), link(id), where);
              assert.equal(e.get('LOCATION'), link(id), where);
              assert.deepEqual(e.all('CONFERENCE').map((c) => c.value), [link(id), ...old.all('CONFERENCE').map((c) => c.value).filter((v) => v.startsWith('tel:'))], where);
              const html = e.get('X-ALT-DESC')!;
              const oldHtml = old.get('X-ALT-DESC')!;
              const open = '<div id="mms-online-meeting"';
              const close = ':end --></div>';
              assert.equal(html.slice(0, html.indexOf(open)), oldHtml.slice(0, oldHtml.indexOf(open)), `${where}: HTML before the block kept`);
              assert.equal(html.slice(html.indexOf(close)), oldHtml.slice(oldHtml.indexOf(close)), `${where}: HTML after the block kept`);
              assert.ok(html.includes(`href="${link(id).replace(/&/g, '&amp;')}"`) && html.includes('Microsoft Teams meeting'), where);
              assert.ok(!html.includes(SKYPE(id)), `${where}: no Skype link left in the HTML`);
            });
            // RRULE, RECURRENCE-ID, DTSTART, STATUS, SEQUENCE, ATTENDEE (PARTSTAT)…: every line outside the block, byte for byte.
            assert.deepEqual(linesOutsideBlock(now.ics), linesOutsideBlock(was.ics), `${name} ${uid}`);
          }
        }
        assert.deepEqual(await fx.get('amy', teams.uid), before.amy.teams, 'the Teams meeting is left as it was');
        assert.deepEqual(await types(fx), { 'one@contoso.com': 'Teams', 'weekly@contoso.com': 'Teams', [teams.uid]: 'Teams' });
        assert.deepEqual(await types(fx, 'ben'), { 'one@contoso.com': 'Teams', 'weekly@contoso.com': 'Teams' });

        // python-icalendar reads the converted objects the same way: master and both exceptions are Teams meetings.
        const [pyOne, pyWeekly] = readWithPython([(await fx.get('amy', 'one@contoso.com')).ics, (await fx.get('amy', 'weekly@contoso.com')).ics]);
        assert.deepEqual(pyWeekly!.map((e) => [e.recurrenceId, e.status, e.sequence]), [[null, null, 0], ['20250310T100000Z', null, 1], ['20250317T100000Z', 'CANCELLED', 1]]);
        for (const [events, id] of [[pyOne!, 'ONE23456'], [pyWeekly!, 'WKL23456']] as const) {
          for (const e of events) {
            assert.ok(e.description?.includes(`Microsoft Teams meeting\nClick here to join the meeting\n${link(id)}\n`), e.description ?? '');
            assert.ok(!e.description?.includes(SKYPE(id)));
            assert.deepEqual([e.location, e.joinUrl, e.conferences[0]], [link(id), link(id), link(id)]);
          }
        }
        assert.ok(pyOne![0]!.description!.startsWith(BEFORE) && pyOne![0]!.description!.endsWith(AFTER));

        // Attendees are told once per meeting: ben through his updated copy, xena by iMIP; the iMIP passes libical and python-icalendar.
        const sent = await fx.notifications(request.correlationId);
        assert.deepEqual(sent.map((n) => [n.uid, n.recipient, n.internal, n.state]).sort(), [
          ['one@contoso.com', fx.upn('ben'), true, 'Applied'], ['one@contoso.com', EXTERNAL.xena, false, 'Queued'],
          ['weekly@contoso.com', fx.upn('ben'), true, 'Applied'], ['weekly@contoso.com', EXTERNAL.xena, false, 'Queued'],
        ].sort());
        const verdicts = assertValidItip(sent.flatMap((n) => (n.ics ? [n.ics] : [])), 'iTIP REQUEST of a converted meeting');
        if (verdicts) {
          const weekly = verdicts.find((v) => v.events.some((e) => e.recurrenceId !== null));
          assert.deepEqual(weekly?.events.map((e) => e.recurrenceId), [null, '20250310T100000Z'], 'the moved exception is announced; the cancelled one is excluded');
        }
        for (const n of sent.filter((x) => x.ics)) {
          assert.ok(n.ics!.replace(/\r\n[ \t]/g, '').includes('Microsoft Teams meeting'), 'the message carries the Teams block');
          // A block-only change keeps SEQUENCE (RFC 5545 §3.8.7.4), so attendees keep their answers.
          assert.deepEqual(n.ics!.match(/^SEQUENCE:.*$/gm) ?? [], n.uid === 'weekly@contoso.com' ? ['SEQUENCE:0', 'SEQUENCE:1'] : ['SEQUENCE:0']);
        }

        // Converted once: the same request again finds no Skype meeting; AllToTeams finds the converted ones current
        // and gives the Exchange Teams meeting our Teams block with its own join link (it stays a Teams meeting).
        const snapshot = await fx.snapshot();
        const again = await migrateAs(fx, 'SfbToTeams');
        assert.deepEqual([again.state, again.totalMeeting], ['Succeeded', 0]);
        assert.deepEqual((await fx.snapshot()).calendar_objects, snapshot.calendar_objects, 'nothing rewritten');
        assert.deepEqual(await fx.notifications(again.correlationId), []);
        const all = await migrateAs(fx, 'AllToTeams');
        assert.deepEqual(await historyOf(fx, all.correlationId), [
          [teams.uid, 'Updated', 'BlockReplaced', 'Teams', 'Teams'],
          ['one@contoso.com', 'UpToDate', 'the block is already current; not rewritten, nobody notified', 'Teams', 'Teams'],
          ['weekly@contoso.com', 'UpToDate', 'the block is already current; not rewritten, nobody notified', 'Teams', 'Teams'],
        ].sort());
        // A Teams meeting keeps the join link Teams made (one of ours would join nothing): only its dial-in is ours.
        assert.equal(blockIn(eventsOf((await fx.get('amy', teams.uid)).ics)[0]!.get('DESCRIPTION')).split('\n')[3], ownLink(teams.ics));
      }));

    it('the source decides which meetings a request touches; Current keeps each meeting\'s type (SfbToSfb, TeamsToTeams, ToSameType)', () =>
      withMigrationFixture(t, async (fx) => {
        const { teams } = await world(fx);
        // The change that makes the blocks stale queues no request of its own here: a Pending ToSameType would take in
        // each explicit request below (types merge: SfbToSfb + ToSameType = ToSameType), and each must run alone.
        await changeTenantSettings(fx.ctx, fx.tenant.id, 'Set-CsOnlineDialInConferencingTenantSettings', { settings: { automaticallyMigrateUserMeetings: false } });
        await fx.retarget();
        assert.deepEqual((await fx.requests()).filter((r) => r.state === 'Pending'), [], 'no automatic request');
        const teamsBefore = await fx.get('amy', teams.uid);
        const sfb = await migrateAs(fx, 'SfbToSfb');
        assert.deepEqual(await historyOf(fx, sfb.correlationId), [
          ['one@contoso.com', 'Updated', 'BlockReplaced', 'SfB', 'SfB'],
          ['weekly@contoso.com', 'Updated', 'BlockReplaced', 'SfB', 'SfB'],
        ]);
        assert.equal(sfb.totalMeeting, 2, 'the Teams meeting is not counted');
        assert.equal(blockIn(eventsOf((await fx.get('amy', 'one@contoso.com')).ics)[0]!.get('DESCRIPTION')), expectedBlock(SKYPE('ONE23456')));
        assert.deepEqual(await fx.get('amy', teams.uid), teamsBefore, 'SfbToSfb leaves the Teams meeting alone');

        const oneBefore = await fx.get('amy', 'one@contoso.com');
        const tt = await migrateAs(fx, 'TeamsToTeams');
        assert.deepEqual(await historyOf(fx, tt.correlationId), [[teams.uid, 'Updated', 'BlockReplaced', 'Teams', 'Teams']]);
        assert.deepEqual(await fx.get('amy', 'one@contoso.com'), oneBefore, 'TeamsToTeams leaves the Skype meetings alone');
        const teamsNow = eventsOf((await fx.get('amy', teams.uid)).ics)[0]!;
        assert.equal(blockIn(teamsNow.get('DESCRIPTION')), expectedTeamsBlock(ownLink(teams.ics), dialInLines(expectedBlock(SKYPE('X')), SKYPE('X'))));
        assert.equal(teamsNow.get('X-MICROSOFT-SKYPETEAMSMEETINGURL'), ownLink(teams.ics), 'Exchange\'s join link kept');
        assert.match(teamsNow.get('DESCRIPTION')!, new RegExp(`Conference ID: ${NEW_CONFERENCE_ID}`));

        const same = await migrateAs(fx, 'ToSameType');
        assert.deepEqual((await historyOf(fx, same.correlationId)).map((r) => [r[0], r[1], r[3], r[4]]), [
          [teams.uid, 'UpToDate', 'Teams', 'Teams'], ['one@contoso.com', 'UpToDate', 'SfB', 'SfB'], ['weekly@contoso.com', 'UpToDate', 'SfB', 'SfB'],
        ].sort());
      }));

    it('undoing a conversion puts the Skype block back and the meeting is a Skype meeting again', () =>
      withMigrationFixture(t, async (fx) => {
        await world(fx);
        const was = await fx.get('amy', 'one@contoso.com');
        const request = await migrateAs(fx, 'SfbToTeams');
        assert.equal((await fx.get('amy', 'one@contoso.com')).meetingType, 'Teams');
        const undo = await undoMigration(fx.db, await fx.currentTenant(), request.correlationId, { actor: 'admin@contoso.com', now: () => fx.clock.now, force: true });
        assert.deepEqual([undo.restored, undo.leftAlone], [2, []]);
        const now = await fx.get('amy', 'one@contoso.com');
        assert.equal(now.meetingType, 'SfB');
        assert.equal(eventsOf(now.ics)[0]!.get('DESCRIPTION'), eventsOf(was.ics)[0]!.get('DESCRIPTION'));
        assert.equal((await fx.get('ben', 'one@contoso.com')).meetingType, 'SfB');
      }));
  });
}
