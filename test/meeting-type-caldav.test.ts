// Issue 12 §2 on a real CalDAV server (Radicale, Debian package), on both databases: a SfbToTeams request started
// through startMigration converts the organizer's Skype meetings on the server — a single meeting and a series with
// a moved and a cancelled exception, in her calendar and in her attendees' — once, with If-Match writes; the
// text around the block is kept; a Teams meeting on the server is not touched; python-icalendar reads the result and
// the iTIP REQUESTs pass libical and python-icalendar; a second run writes nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES } from './helpers/databases.js';
import { withCalDav, type CalDavFixture } from './helpers/caldav-fixture.js';
import { RADICALE_SKIP } from './helpers/radicale.js';
import { blockIn, eventsOf, EXTERNAL, march } from './helpers/migration-fixture.js';
import { dialInLines, exchangeTeamsMeeting, expectedTeamsBlock, migrateAs, readWithPython, teamsLink, withExceptions } from './helpers/meeting-type-fixture.js';
import { assertValidItip } from './helpers/libical.js';

const SKYPE = (id: string) => `https://meet.contoso.com/amy/${id}`;
// Radicale keeps the commas of tel: URIs only when MMS writes them as %2C (see caldav-migration.test.ts).
const plain = (ics: string | undefined): string => (ics ?? '').replace(/%2C/g, ',');


for (const t of TEST_DATABASES) {
  describe(`${t.name}: converting Skype meetings to Teams meetings on a CalDAV server (Radicale)`, { skip: t.skip ?? RADICALE_SKIP }, () => {
    it('SfbToTeams converts the single meeting and the series with exceptions once, in every calendar; the Teams meeting stays as it was', () =>
      withCalDav(t, async (c) => {
        const { fx } = c;
        const one = await c.meeting({ subject: 'Budget 🎉', start: march(10), uid: 'one@contoso.com', meetingId: 'ONE23456', body: 'Agenda: 会議 — שלום e\u0301' });
        const master = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly 1:1', start: Date.UTC(2025, 1, 17, 10), rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=8', meetingId: 'WKL23456', attendees: ['ben', 'dan', EXTERNAL.xena] });
        const series = withExceptions(master);
        for (const u of ['amy', 'ben', 'dan'] as const) await c.put(u, 'weekly@contoso.com', series);
        const teams = exchangeTeamsMeeting(fx.upn('amy'));
        await c.put('amy', teams.uid, teams.ics);
        const before = {
          one: await c.object('amy', one), weekly: await c.object('amy', 'weekly@contoso.com'), teams: await c.object('amy', teams.uid),
        };
        await c.moveMailboxes();
        const amy = await fx.user('amy');
        const link = (id: string) => teamsLink(id, fx.tenant.id, amy.id);

        const request = await migrateAs(fx, 'SfbToTeams', { secrets: c.secrets });
        assert.equal(request.state, 'Succeeded', request.lastMessage);
        const rows = (await fx.history(request.correlationId)).map((r) => {
          const x = r as typeof r & { MeetingType: string; NewMeetingType: string };
          return [x.Uid, x.Action, x.Reason.split(':')[0], x.MeetingType, x.NewMeetingType];
        });
        assert.deepEqual(rows.sort(), [
          [one, 'Updated', 'ConvertedToTeams', 'SfB', 'Teams'], ['weekly@contoso.com', 'Updated', 'ConvertedToTeams', 'SfB', 'Teams'],
        ].sort());
        assert.equal(request.totalMeeting, 2, 'the Teams meeting is not counted');

        for (const [uid, id, was] of [[one, 'ONE23456', before.one], ['weekly@contoso.com', 'WKL23456', before.weekly]] as const) {
          const oldEvents = eventsOf(plain(was?.ics));
          for (const u of ['amy', 'ben', 'dan'] as const) {
            const now = await c.object(u, uid);
            assert.ok(now, `${u} has ${uid}`);
            const events = eventsOf(plain(now.ics));
            assert.deepEqual(events.map((e) => e.recurrenceId), oldEvents.map((e) => e.recurrenceId), `${u} ${uid}`);
            events.forEach((e, i) => {
              const old = oldEvents[i]!;
              const oldBlock = blockIn(old.get('DESCRIPTION'));
              const block = blockIn(e.get('DESCRIPTION'));
              const where = `${u} ${uid} ${e.recurrenceId ?? 'master'}`;
              assert.equal(block, expectedTeamsBlock(link(id), dialInLines(oldBlock, SKYPE(id))), where);
              assert.equal(e.get('DESCRIPTION'), old.get('DESCRIPTION')!.replace(oldBlock, block), `${where}: text around the block kept`);
              assert.equal(e.get('X-MICROSOFT-SKYPETEAMSMEETINGURL'), link(id), where);
              assert.equal(e.get('LOCATION'), link(id), where);
              for (const name of ['DTSTART', 'DTEND', 'RRULE', 'STATUS', 'SEQUENCE', 'SUMMARY']) assert.equal(e.get(name), old.get(name), `${where}: ${name}`);
            });
          }
        }
        assert.deepEqual(await c.object('amy', teams.uid), before.teams, 'the Teams meeting on the server is not written');

        const py = readWithPython([plain((await c.object('amy', 'weekly@contoso.com'))?.ics)]);
        assert.deepEqual(py[0]!.map((e) => [e.recurrenceId, e.status]), [[null, null], ['20250310T100000Z', null], ['20250317T100000Z', 'CANCELLED']]);
        for (const e of py[0]!) {
          assert.ok(e.description?.includes(`Microsoft Teams meeting\nClick here to join the meeting\n${link('WKL23456')}\n`), e.description ?? '');
          assert.deepEqual([e.location, e.joinUrl], [link('WKL23456'), link('WKL23456')]);
        }

        const sent = await fx.notifications(request.correlationId);
        assert.deepEqual(sent.filter((n) => !n.internal).map((n) => [n.uid, n.recipient]).sort(), [
          [one, EXTERNAL.xena], [one, EXTERNAL.yuri], ['weekly@contoso.com', EXTERNAL.xena],
        ].sort(), 'each external attendee is mailed once per converted meeting');
        assertValidItip(sent.flatMap((n) => (n.ics ? [n.ics] : [])), 'iTIP REQUEST of a meeting converted on CalDAV');

        const puts = c.proxy.count('PUT');
        const again = await migrateAs(fx, 'SfbToTeams', { secrets: c.secrets });
        assert.deepEqual([again.state, again.totalMeeting], ['Succeeded', 0]);
        assert.equal(c.proxy.count('PUT'), puts, 'converted once: a second run writes nothing');
        const all = await migrateAs(fx, 'AllToTeams', { secrets: c.secrets });
        const actions = (await fx.history(all.correlationId)).map((r) => [r.Uid, r.Action]).sort();
        assert.deepEqual(actions, [[teams.uid, 'Updated'], [one, 'UpToDate'], ['weekly@contoso.com', 'UpToDate']].sort());
      }));
  });
}
