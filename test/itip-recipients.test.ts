// iTIP messages every client accepts (RFC 5546): each external attendee gets only the components that invite them
// (§3.2.2), never the organizer's alarms, never a cancelled occurrence inside a REQUEST; every stored copy a
// migration rewrites says when it changed (RFC 5545 §3.8.7.2–3.8.7.3). Every message produced here is judged by
// libical's iTIP restrictions and python-icalendar, not by our own parser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_DATABASES, type TestDatabase } from './helpers/databases.js';
import { assertValidItip } from './helpers/libical.js';
import {
  DAY, EXTERNAL, SERVICE_ADDRESS, assertStamped, blockIn, eventOf, eventsOf, expectedBlock, march, utcStamp, withMigrationFixture,
  type MigrationFixture,
} from './helpers/migration-fixture.js';
import { editEvents } from '../src/ical/index.js';
import { recordNotifications, type MeetingNotifications } from '../src/store/outbox-repo.js';

const WALT = 'walt@example.net';
const ZED = 'zed@example.net';
const ALARM = 'BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Leave for the meeting\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n';
const JOIN = 'https://meet.contoso.com/amy/WKL23456';

/** Runs a test, then has libical and python-icalendar judge every iMIP message it stored. */
async function withChecked(t: TestDatabase, fn: (fx: MigrationFixture) => Promise<void>): Promise<void> {
  await withMigrationFixture(t, async (fx) => {
    await fn(fx);
    assertValidItip(await fx.messages(), 'stored iMIP message');
  });
}

/** An exception of a weekly series: the master's text for one occurrence, changed by `edit`. */
function exceptionOf(master: string, recurrenceId: string, edit: (e: Parameters<Parameters<typeof editEvents>[1]>[0]) => void): string {
  return editEvents(master, (e) => {
    e.remove('RRULE');
    e.add('RECURRENCE-ID', recurrenceId);
    e.set('DTSTART', recurrenceId);
    e.set('DTEND', recurrenceId.replace('T100000Z', 'T110000Z'));
    e.set('SEQUENCE', '1');
    edit(e);
  });
}

/** Each VEVENT of a message: its RECURRENCE-ID, attendees, EXDATEs and STATUS. */
function shape(ics: string) {
  return eventsOf(ics).map((e) => ({
    recurrenceId: e.recurrenceId,
    attendees: e.all('ATTENDEE').map((a) => a.value.replace(/^mailto:/i, '')),
    exdates: e.all('EXDATE').map((x) => x.value),
    rrule: e.get('RRULE'),
    status: e.get('STATUS'),
  }));
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: each recipient gets only what invites them (RFC 5546 §3.2.2)`, { skip: t.skip }, () => {
    it('an attendee of one occurrence gets that occurrence only, one left out of an occurrence gets the series without it, and attendees invited to the same components share a message', () =>
      withChecked(t, async (fx) => {
        // Mondays 10:00 from 10 March, four times: ben, xena, yuri and walt. On 17 March zed joins that one
        // occurrence; on 24 March yuri is not invited.
        const master = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly', start: march(10), rrule: 'FREQ=WEEKLY;COUNT=4', attendees: ['ben', EXTERNAL.xena, EXTERNAL.yuri, WALT], meetingId: 'WKL23456' });
        const with17 = exceptionOf(master, '20250317T100000Z', (e) => e.add('ATTENDEE', `mailto:${ZED}`, { ROLE: 'REQ-PARTICIPANT', PARTSTAT: 'NEEDS-ACTION', RSVP: 'TRUE' }));
        const without24 = exceptionOf(master, '20250324T100000Z', (e) => e.remove('ATTENDEE', (a) => a.value === `mailto:${EXTERNAL.yuri}`));
        await fx.importInto(['amy', 'ben'], master + with17 + without24);
        await fx.retarget();
        const request = await fx.migrate();

        const notes = await fx.notifications(request.correlationId);
        assert.deepEqual(notes.map((n) => [n.recipient, n.internal]), [[fx.upn('ben'), true], [EXTERNAL.xena, false], [EXTERNAL.yuri, false], [WALT, false], [ZED, false]]);
        const messageOf = (address: string) => notes.find((n) => n.recipient === address) as (typeof notes)[number];
        assert.equal(messageOf(EXTERNAL.xena).messageId, messageOf(WALT).messageId, 'xena and walt are invited to the same components: one message');
        assert.equal(new Set(notes.filter((n) => !n.internal).map((n) => n.messageId)).size, 3);
        assert.equal((await fx.messages()).length, 3);

        const everyone = ['ben@contoso.com', EXTERNAL.xena, EXTERNAL.yuri, WALT];
        assert.deepEqual(shape(messageOf(EXTERNAL.xena).ics ?? ''), [
          { recurrenceId: null, attendees: everyone, exdates: [], rrule: 'FREQ=WEEKLY;COUNT=4', status: null },
          { recurrenceId: '20250317T100000Z', attendees: [...everyone, ZED], exdates: [], rrule: null, status: null },
          { recurrenceId: '20250324T100000Z', attendees: ['ben@contoso.com', EXTERNAL.xena, WALT], exdates: [], rrule: null, status: null },
        ]);
        // yuri keeps the series but not 24 March: the master excludes it, so yuri's calendar drops it.
        assert.deepEqual(shape(messageOf(EXTERNAL.yuri).ics ?? ''), [
          { recurrenceId: null, attendees: everyone, exdates: ['20250324T100000Z'], rrule: 'FREQ=WEEKLY;COUNT=4', status: null },
          { recurrenceId: '20250317T100000Z', attendees: [...everyone, ZED], exdates: [], rrule: null, status: null },
        ]);
        // zed learns of 17 March only: no series, no other attendees' occurrences.
        assert.deepEqual(shape(messageOf(ZED).ics ?? ''), [
          { recurrenceId: '20250317T100000Z', attendees: [...everyone, ZED], exdates: [], rrule: null, status: null },
        ]);
        for (const n of notes.filter((x) => !x.internal)) {
          const e = eventsOf(n.ics ?? '');
          for (const c of e) {
            assert.equal(blockIn(c.get('DESCRIPTION')), expectedBlock(JOIN), `${n.recipient} ${c.recurrenceId ?? 'master'}`);
            assert.equal(c.all('ORGANIZER')[0]?.params['SENT-BY'], `mailto:${SERVICE_ADDRESS}`);
            assert.ok(c.all('ATTENDEE').every((a) => a.params['RSVP'] === 'FALSE'));
          }
        }
        // The independent reading agrees with ours on what each recipient gets.
        const verdicts = assertValidItip([messageOf(EXTERNAL.yuri).ics ?? '', messageOf(ZED).ics ?? '']);
        if (verdicts) {
          assert.deepEqual(verdicts[0]?.events.map((e) => [e.recurrenceId, e.exdates]), [[null, ['20250324T100000Z']], ['20250317T100000Z', []]]);
          assert.deepEqual(verdicts[1]?.events.map((e) => [e.recurrenceId, e.attendees.includes(ZED)]), [['20250317T100000Z', true]]);
        }
        assert.equal((await fx.history(request.correlationId))[0]?.AttendeesNotified, 5);
      }));

    it('the organizer\'s alarms stay in her copy and are never sent to attendees', () =>
      withChecked(t, async (fx) => {
        const master = await fx.addInIcs({ uid: 'alarm@contoso.com', subject: 'Alarmed', start: march(10), rrule: 'FREQ=WEEKLY;COUNT=3', attendees: ['ben', EXTERNAL.xena], meetingId: 'ALM23456' });
        const moved = exceptionOf(master, '20250317T100000Z', (e) => e.set('SUMMARY', 'Alarmed (moved)'));
        const withAlarms = (master + moved).split('END:VEVENT\r\n').join(`${ALARM}END:VEVENT\r\n`);
        await fx.importInto(['amy'], withAlarms);
        await fx.importInto(['ben'], master + moved);
        await fx.retarget();
        const request = await fx.migrate();

        const message = (await fx.notifications(request.correlationId)).find((n) => n.recipient === EXTERNAL.xena)?.ics ?? '';
        assert.deepEqual(eventsOf(message).map((e) => e.recurrenceId), [null, '20250317T100000Z']);
        assert.doesNotMatch(message, /VALARM|Leave for the meeting/);
        const amy = (await fx.get('amy', 'alarm@contoso.com')).ics;
        assert.equal(amy.split(ALARM).length - 1, 2, 'the organizer keeps both her alarms');
        assert.equal(blockIn(eventOf(amy).get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/ALM23456'));
      }));

    it('a cancelled occurrence is never inside the REQUEST: the master excludes it, and an attendee of that occurrence alone gets nothing', () =>
      withChecked(t, async (fx) => {
        const master = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly', start: march(10), rrule: 'FREQ=WEEKLY;COUNT=4', attendees: ['ben', EXTERNAL.xena], meetingId: 'WKL23456' });
        const cancelled = exceptionOf(master, '20250317T100000Z', (e) => {
          e.add('STATUS', 'CANCELLED');
          e.add('ATTENDEE', `mailto:${ZED}`, { ROLE: 'REQ-PARTICIPANT', PARTSTAT: 'NEEDS-ACTION', RSVP: 'TRUE' });
        });
        const moved = exceptionOf(master, '20250324T100000Z', (e) => e.set('DTSTART', '20250324T140000Z'));
        const ics = editEvents(master, (e) => e.add('EXDATE', '20250331T100000Z')) + cancelled + moved;
        await fx.importInto(['amy', 'ben'], ics);
        await fx.retarget();
        const request = await fx.migrate();

        const notes = await fx.notifications(request.correlationId);
        assert.deepEqual(notes.map((n) => [n.recipient, n.internal]), [[fx.upn('ben'), true], [EXTERNAL.xena, false]], 'zed was invited to the cancelled occurrence only');
        const message = notes[1]?.ics ?? '';
        assert.deepEqual(shape(message).map((e) => [e.recurrenceId, e.exdates, e.status]), [
          [null, ['20250331T100000Z', '20250317T100000Z'], null], ['20250324T100000Z', [], null],
        ]);
        assert.doesNotMatch(message, /CANCELLED/);
        assert.equal((await fx.history(request.correlationId))[0]?.AttendeesNotified, 2);
        // The stored copies keep the cancelled occurrence as it was, with the new block.
        for (const name of ['amy', 'ben']) {
          const events = eventsOf((await fx.get(name, 'weekly@contoso.com')).ics);
          assert.deepEqual(events.map((e) => [e.recurrenceId, e.get('STATUS')]), [[null, null], ['20250317T100000Z', 'CANCELLED'], ['20250324T100000Z', null]]);
          assert.equal(events[0]?.get('EXDATE'), '20250331T100000Z');
          for (const e of events) assert.equal(blockIn(e.get('DESCRIPTION')), expectedBlock(JOIN));
        }
      }));
  });

  describe(`${t.name}: stored copies say when they changed (RFC 5545 §3.8.7.2–3.8.7.3)`, { skip: t.skip }, () => {
    it('every component a migration rewrites, in the organizer\'s and the internal attendees\' copies, gets DTSTAMP and LAST-MODIFIED of the migration; an up-to-date meeting keeps them', () =>
      withChecked(t, async (fx) => {
        const master = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly', start: march(10), rrule: 'FREQ=WEEKLY;COUNT=4', attendees: ['ben', 'dan', EXTERNAL.xena], meetingId: 'WKL23456' });
        const ics = master + exceptionOf(master, '20250317T100000Z', (e) => e.set('SUMMARY', 'Weekly (moved)'));
        await fx.importInto(['amy', 'ben', 'dan'], ics);
        // ben answers in his own copy (it now differs from the organizer's); dan's stays the organizer's text.
        await fx.edit('ben', 'weekly@contoso.com', (text) => editEvents(text, (e) => e.add('TRANSP', 'TRANSPARENT')));
        const before = (await fx.get('amy', 'weekly@contoso.com')).ics;
        assert.deepEqual(eventsOf(before).map((e) => e.get('DTSTAMP')), [utcStamp(fx.clock.now), utcStamp(fx.clock.now)]);
        await fx.retarget();
        fx.clock.advance(DAY);
        const migratedAt = fx.clock.now;
        const request = await fx.migrate();
        assert.equal(request.state, 'Succeeded', request.lastMessage);

        for (const name of ['amy', 'ben', 'dan']) {
          const copy = await fx.get(name, 'weekly@contoso.com');
          assert.equal(copy.version, name === 'ben' ? 3 : 2, name);
          assertStamped(copy.ics, migratedAt, [null, '20250317T100000Z']);
        }
        const message = (await fx.notifications(request.correlationId)).find((n) => !n.internal)?.ics ?? '';
        assert.deepEqual(eventsOf(message).map((e) => e.get('DTSTAMP')), [utcStamp(migratedAt), utcStamp(migratedAt)]);

        // Nothing changes the second time: no copy is rewritten, so no stamp moves.
        fx.clock.advance(DAY);
        const again = await fx.migrate();
        assert.deepEqual((await fx.history(again.correlationId)).map((r) => r.Action), ['UpToDate']);
        for (const name of ['amy', 'ben', 'dan']) assertStamped((await fx.get(name, 'weekly@contoso.com')).ics, migratedAt);
      }));
  });

  describe(`${t.name}: one message per component set, exactly once`, { skip: t.skip }, () => {
    it('messages for different component sets of one meeting are stored side by side, and recording the same set twice for one migration is refused', () =>
      withMigrationFixture(t, async (fx) => {
        const s = await fx.schedule({ subject: 'Once', start: march(12), uid: 'once@contoso.com' });
        const text = (await fx.get('amy', s.uid)).ics;
        const organizerId = await fx.userId('amy');
        const meeting = (correlationId: string): MeetingNotifications => ({
          tenantId: fx.tenant.id, correlationId, organizerId, uid: s.uid, now: fx.clock.now,
          recipients: [{ recipient: EXTERNAL.xena, internal: false, variant: '' }, { recipient: EXTERNAL.yuri, internal: false, variant: 'a1b2' }],
          messages: [
            { from: 'amy@contoso.com', sender: SERVICE_ADDRESS, subject: 'Once', ics: text, variant: '' },
            { from: 'amy@contoso.com', sender: SERVICE_ADDRESS, subject: 'Once', ics: text, variant: 'a1b2' },
          ],
        });
        await recordNotifications(fx.db.kysely, [meeting('m1')]);
        const notes = await fx.notifications('m1');
        assert.deepEqual(notes.map((n) => n.recipient), [EXTERNAL.xena, EXTERNAL.yuri]);
        assert.notEqual(notes[0]?.messageId, notes[1]?.messageId);
        // Another recipient of the same component set of the same migration: the message itself is refused.
        await assert.rejects(recordNotifications(fx.db.kysely, [{ ...meeting('m1'), recipients: [{ recipient: ZED, internal: false, variant: '' }] }]));
        assert.equal((await fx.messages()).length, 2);
        await assert.rejects(recordNotifications(fx.db.kysely, [{ ...meeting('m2'), recipients: [{ recipient: ZED, internal: false, variant: 'nope' }] }]), /no message "nope" for zed@example.net/);
      }));
  });
}
