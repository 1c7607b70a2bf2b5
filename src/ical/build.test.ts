import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ICAL } from './setup.js';
import { type NewEventInput, buildEvent, editEvents, indexObject, occurrencesBetween, vtimezoneFor } from './index.js';
import { MmsError } from '../domain/errors.js';

const base: NewEventInput = {
  uid: 'mms-0001@example.com',
  summary: 'Budget review; Q3, final',
  start: Date.UTC(2024, 6, 1, 7, 30),
  end: Date.UTC(2024, 6, 1, 8, 30),
  timeZone: 'Europe/Berlin',
  rrule: 'FREQ=WEEKLY;COUNT=4',
  organizer: { address: 'Adele@Contoso.com', name: 'Vance, Adele' },
  attendees: [{ address: 'alex@contoso.com', name: 'Alex Wilber' }, { address: 'mailto:guest@example.org' }],
  description: 'Agenda 🚀\n\nJoin: https://teams.example/l/abc',
  htmlDescription: '<p>Agenda 🚀</p>',
  location: 'Microsoft Teams Meeting',
  conferences: [
    { uri: 'https://teams.example/l/abc', features: ['AUDIO', 'VIDEO'], label: 'Join Microsoft Teams Meeting' },
    { uri: 'tel:+12065550100,,123456789#', features: ['PHONE'], label: 'United States, Seattle' },
  ],
  xProps: { 'X-MICROSOFT-SKYPETEAMSMEETINGURL': 'https://teams.example/l/abc' },
  dtstamp: Date.UTC(2024, 5, 1),
};
const unfold = (s: string): string[] => s.replace(/\r\n[ \t]/g, '').split('\r\n');

test('buildEvent writes a complete single-UID VCALENDAR in the documented shape', () => {
  const ics = buildEvent(base);
  const lines = unfold(ics);
  assert.deepEqual(lines.slice(0, 5), ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//MMS//Meeting Migration Service//EN', 'CALSCALE:GREGORIAN', 'BEGIN:VTIMEZONE']);
  assert.ok(!lines.some((l) => l.startsWith('METHOD')), 'no METHOD: a stored object, not an iTIP message');
  const event = lines.slice(lines.indexOf('BEGIN:VEVENT'));
  assert.deepEqual(event, [
    'BEGIN:VEVENT',
    'UID:mms-0001@example.com',
    'DTSTAMP:20240601T000000Z',
    'SEQUENCE:0',
    'DTSTART;TZID=Europe/Berlin:20240701T093000',
    'DTEND;TZID=Europe/Berlin:20240701T103000',
    'RRULE:FREQ=WEEKLY;COUNT=4',
    'SUMMARY:Budget review\\; Q3\\, final',
    'ORGANIZER;CN="Vance, Adele":mailto:Adele@Contoso.com',
    'ATTENDEE;CN=Alex Wilber;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:alex@contoso.com',
    'ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:guest@example.org',
    'DESCRIPTION:Agenda 🚀\\n\\nJoin: https://teams.example/l/abc',
    'X-ALT-DESC;FMTTYPE=text/html:<p>Agenda 🚀</p>',
    'LOCATION:Microsoft Teams Meeting',
    'CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO;LABEL=Join Microsoft Teams Meeting:https://teams.example/l/abc',
    'CONFERENCE;VALUE=URI;FEATURE=PHONE;LABEL="United States, Seattle":tel:+12065550100,,123456789#',
    'X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.example/l/abc',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ]);
  assert.ok(ics.endsWith('END:VCALENDAR\r\n'), 'final CRLF');
  assert.doesNotMatch(ics.replace(/\r\n/g, ''), /[\r\n]/, 'CRLF only');
  for (const physical of ics.split('\r\n')) assert.ok(Buffer.byteLength(physical) <= 75);
});

test('a built meeting indexes back to what was asked for', () => {
  const i = indexObject(buildEvent(base));
  assert.equal(i.uid, base.uid);
  assert.equal(i.summary, base.summary);
  assert.equal(i.organizer, 'adele@contoso.com');
  assert.deepEqual(i.attendees.map((a) => [a.address, a.name, a.partstat, a.rsvp]), [
    ['alex@contoso.com', 'Alex Wilber', 'NEEDS-ACTION', true],
    ['guest@example.org', null, 'NEEDS-ACTION', true],
  ]);
  assert.equal(i.firstStart, base.start);
  assert.equal(i.lastEnd, Date.UTC(2024, 6, 22, 8, 30));
  assert.equal(i.xProps['X-MICROSOFT-SKYPETEAMSMEETINGURL'], 'https://teams.example/l/abc');
});

test('a series built in winter keeps its local time after the DST change (generated VTIMEZONE)', () => {
  const ics = buildEvent({ ...base, start: Date.UTC(2024, 2, 18, 9), end: Date.UTC(2024, 2, 18, 10), rrule: 'FREQ=WEEKLY;COUNT=3' });
  assert.deepEqual(
    occurrencesBetween(ics, 0, Date.UTC(2025, 0, 1)).map((o) => new Date(o.start).toISOString()),
    ['2024-03-18T09:00:00.000Z', '2024-03-25T09:00:00.000Z', '2024-04-01T08:00:00.000Z'],
  );
});

test('without a time zone the times are written in UTC and no VTIMEZONE is added', () => {
  const { timeZone: _omit, ...rest } = base;
  const ics = buildEvent(rest);
  assert.ok(!ics.includes('VTIMEZONE'));
  assert.ok(unfold(ics).includes('DTSTART:20240701T073000Z'));
});

test('a built meeting can be edited right away', () => {
  const out = editEvents(buildEvent(base), (e) => e.set('LOCATION', 'Room 1'));
  assert.equal(indexObject(out).uid, base.uid);
});

test('input that cannot make a valid meeting is refused with a one-line MmsError', () => {
  const cases: Array<[Partial<NewEventInput>, RegExp]> = [
    [{ timeZone: 'Mars/Olympus_Mons' }, /^mms-0001@example\.com: time zone "Mars\/Olympus_Mons" is unknown; use an IANA name/],
    [{ end: base.start - 1 }, /ends before it starts/],
    [{ organizer: { address: 'not an address' } }, /organizer address "not an address" is not an e-mail address; /],
    [{ attendees: [{ address: 'x@y@z' }] }, /attendee address "x@y@z" is not an e-mail address/],
    [{ rrule: 'WEEKLY' }, /RRULE "WEEKLY" is not a valid recurrence rule; /],
    [{ xProps: { 'MICROSOFT-URL': 'x' } }, /"MICROSOFT-URL" is not an X- property name; /],
    [{ conferences: [{ uri: 'no scheme', features: [] }] }, /conference URI "no scheme" is not a URI/],
    [{ uid: '  ' }, /^new meeting: the UID is empty; /],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => buildEvent({ ...base, ...patch }),
      (e: unknown) => e instanceof MmsError && e.code === 'Invalid' && message.test(e.message) && !/[\r\n]/.test(e.message),
      String(message),
    );
  }
});

// ---------------------------------------------------------------- vtimezoneFor

test('vtimezoneFor writes Outlook-style STANDARD/DAYLIGHT observances with yearly rules (RFC 5545 §3.6.5)', () => {
  assert.equal(
    vtimezoneFor('Europe/Berlin', 2024),
    [
      'BEGIN:VTIMEZONE', 'TZID:Europe/Berlin',
      'BEGIN:DAYLIGHT', 'DTSTART:19700329T020000', 'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'TZOFFSETFROM:+0100', 'TZOFFSETTO:+0200', 'TZNAME:CEST', 'END:DAYLIGHT',
      'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'TZNAME:CET', 'END:STANDARD',
      'END:VTIMEZONE', '',
    ].join('\r\n'),
  );
  assert.match(vtimezoneFor('America/New_York', 2024) ?? '', /RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n.*\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT/s);
});

test('vtimezoneFor writes a single STANDARD for a zone without DST, and null for an unknown zone', () => {
  assert.equal(
    vtimezoneFor('Asia/Kolkata', 2024),
    'BEGIN:VTIMEZONE\r\nTZID:Asia/Kolkata\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n',
  );
  assert.equal(vtimezoneFor('Not/AZone', 2024), null);
  assert.equal(vtimezoneFor('', 2024), null);
});

/** Offset of a zone at an instant straight from Intl, independent of the module. */
const formats = new Map<string, Intl.DateTimeFormat>();
function intlOffset(tzid: string, t: number): number {
  let f = formats.get(tzid);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tzid, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(tzid, f);
  }
  const parts = f.formatToParts(t);
  const n = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - t;
}

const ZONES = ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles', 'America/St_Johns', 'America/Sao_Paulo', 'Australia/Sydney', 'Pacific/Auckland', 'Asia/Tokyo', 'Asia/Kathmandu', 'Africa/Casablanca', 'Pacific/Chatham'];

for (const tzid of ZONES) {
  test(`vtimezoneFor(${tzid}): ical.js reads 2024 and 2025, every 3 hours, at the offset Intl gives`, () => {
    const vtz = vtimezoneFor(tzid, 2024);
    assert.ok(vtz);
    const zone = new ICAL.Timezone({ component: new ICAL.Component(ICAL.parse(vtz)), tzid });
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2026, 0, 1); t += 3 * 3_600_000) {
      const offset = intlOffset(tzid, t);
      // Skip two hours either side of a change: wall times repeated when clocks go back are ambiguous (ical.js
      // reads them as the later one, RFC 5545 §3.3.5 says the earlier one); that is ical.js's call, not ours.
      if ([-2, -1, 1, 2].some((h) => intlOffset(tzid, t + h * 3_600_000) !== offset)) continue;
      const wall = new Date(t + offset);
      const time = new ICAL.Time({ year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(), hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), second: 0, isDate: false }, zone);
      if (tzid === 'Africa/Casablanca' && t >= Date.UTC(2025, 0, 1)) break; // Ramadan moves: one year's rule only
      assert.equal(time.toUnixTime() * 1000, t, `${tzid} at ${new Date(t).toISOString()}`);
    }
  });
}
