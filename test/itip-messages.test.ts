// The iTIP REQUEST builder on its own (no database): which components each recipient gets, how a left-out
// occurrence is excluded in the recipient's zone, and that the independent validators used across the suite
// really do reject what RFC 5546 forbids (so a passing check means something).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LIBICAL_PROBLEM, assertValidItip, judgeItip } from './helpers/libical.js';
import { eventsOf } from './helpers/migration-fixture.js';
import { buildEvent, editEvents, itipRequests } from '../src/ical/index.js';

const STAMP = Date.UTC(2024, 5, 20, 8, 0);
const opts = { sentBy: 'mms@contoso.com', dtstamp: STAMP };
const ALARM = 'BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n';

/** A weekly Berlin series (Mondays 09:30 local) with two exceptions: 8 July cancelled, 15 July with guest@example.org added. */
function berlinSeries(): string {
  const master = buildEvent({
    uid: 'berlin@contoso.com', summary: 'Jour fixe', start: Date.UTC(2024, 6, 1, 7, 30), end: Date.UTC(2024, 6, 1, 8, 30),
    timeZone: 'Europe/Berlin', rrule: 'FREQ=WEEKLY;COUNT=4', organizer: { address: 'adele@contoso.com', name: 'Adele' },
    attendees: [{ address: 'alex@contoso.com' }, { address: 'xena@fabrikam.com' }], dtstamp: Date.UTC(2024, 5, 1),
  });
  const exception = (rid: string, change: (e: Parameters<Parameters<typeof editEvents>[1]>[0]) => void) => {
    const text = editEvents(master, (e) => {
      e.remove('RRULE');
      e.add('RECURRENCE-ID', rid, { TZID: 'Europe/Berlin' });
      change(e);
    });
    return /BEGIN:VEVENT\r\n[\s\S]*END:VEVENT\r\n/.exec(text)?.[0] ?? '';
  };
  const cancelled = exception('20240708T093000', (e) => e.add('STATUS', 'CANCELLED'));
  const guest = exception('20240715T093000', (e) => e.add('ATTENDEE', 'mailto:guest@example.org', { PARTSTAT: 'NEEDS-ACTION' }));
  const withAlarm = master.replace('END:VEVENT\r\n', `${ALARM}END:VEVENT\r\n`);
  return withAlarm.replace('END:VCALENDAR\r\n', `${cancelled}${guest}END:VCALENDAR\r\n`);
}

describe('iTIP REQUESTs per recipient (RFC 5546 §3.2.2)', () => {
  it('excludes left-out occurrences from the master in the zone and value type of their RECURRENCE-ID, and drops alarms and cancelled occurrences', () => {
    const ics = berlinSeries();
    const messages = itipRequests(ics, ['xena@fabrikam.com', 'Guest@Example.org', 'nobody@example.org'], opts);
    assert.deepEqual(messages.map((m) => [m.variant === '', m.recipients]), [[true, ['xena@fabrikam.com']], [false, ['Guest@Example.org']]]);
    const [whole, guest] = messages.map((m) => m.ics) as [string, string];
    const master = eventsOf(whole)[0];
    assert.deepEqual(master?.all('EXDATE'), [{ params: { TZID: 'Europe/Berlin' }, value: '20240708T093000' }]);
    assert.deepEqual(eventsOf(whole).map((e) => e.recurrenceId), [null, '20240715T093000']);
    assert.deepEqual(eventsOf(guest).map((e) => e.recurrenceId), ['20240715T093000']);
    for (const m of [whole, guest]) {
      assert.match(m, /^BEGIN:VCALENDAR\r\n(?:.*\r\n)*?METHOD:REQUEST\r\n/);
      assert.match(m, /BEGIN:VTIMEZONE\r\nTZID:Europe\/Berlin\r\n/, 'the zone the components use travels with them');
      assert.doesNotMatch(m, /VALARM|CANCELLED/);
      for (const e of eventsOf(m)) assert.equal(e.get('DTSTAMP'), '20240620T080000Z');
    }
    // The stored object is not changed by building messages from it.
    assert.equal(eventsOf(ics).length, 3);
    const verdicts = assertValidItip([whole, guest]);
    if (verdicts) assert.deepEqual(verdicts[0]?.events[0]?.exdates, ['20240708T093000']);
  });

  it('a meeting with nothing live left (every occurrence cancelled) gets no REQUEST at all', () => {
    const gone = editEvents(buildEvent({ uid: 'gone@contoso.com', summary: 'Gone', start: STAMP, end: STAMP + 3_600_000, organizer: { address: 'adele@contoso.com' }, attendees: [{ address: 'xena@fabrikam.com' }], dtstamp: STAMP }), (e) => e.add('STATUS', 'CANCELLED'));
    assert.deepEqual(itipRequests(gone, ['xena@fabrikam.com'], opts), []);
  });
});

describe('the independent iTIP validators', { skip: LIBICAL_PROBLEM }, () => {
  it('reject a cancelled occurrence inside a REQUEST and an unreadable text, and the suite\'s check refuses an alarm', () => {
    const ics = berlinSeries();
    // What MMS sent before: the stored object as it is, METHOD added.
    const before = ics.replace('BEGIN:VCALENDAR\r\n', 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n');
    const [cancelled, garbage] = judgeItip([before, 'not iCalendar']);
    assert.ok(cancelled?.errors.some((e) => e.includes('Failed iTIP restrictions for STATUS property')), JSON.stringify(cancelled?.errors));
    assert.ok(garbage?.errors.length);
    const alarmOnly = (itipRequests(ics, ['xena@fabrikam.com'], opts)[0]?.ics ?? '').replace('END:VEVENT\r\n', `${ALARM}END:VEVENT\r\n`);
    assert.throws(() => assertValidItip([alarmOnly]), /carries an alarm/);
  });
});
