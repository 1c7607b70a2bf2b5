import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { type ObjectIndex, decodeIcs, indexObject, occurrencesBetween, splitCalendar } from './index.js';
import { MmsError } from '../domain/errors.js';

const dir = new URL('../../test/fixtures/ics/', import.meta.url);
const objectsOf = (name: string): ObjectIndex[] =>
  splitCalendar(decodeIcs(fs.readFileSync(new URL(name, dir)))).objects.map((o) => indexObject(o.ics));
const at = (iso: string): number => Date.parse(iso);
const who = (i: ObjectIndex): Array<[string, string | null, string, string, string, boolean]> =>
  i.attendees.map((a) => [a.address, a.name, a.partstat, a.role, a.cutype, a.rsvp]);

test('Outlook: Teams meeting in "Pacific Standard Time" reads organizer, attendees and times (RFC 5545 §3.6.5 VTIMEZONE)', () => {
  const [single, series] = objectsOf('outlook-teams.ics');
  assert.ok(single && series);
  assert.equal(single.summary, 'Quarterly planning');
  assert.equal(single.organizer, 'adelev@contoso.com');
  assert.deepEqual(who(single), [
    ['alexw@contoso.com', 'Wilber, Alex', 'NEEDS-ACTION', 'REQ-PARTICIPANT', 'INDIVIDUAL', true],
    ['meganb@contoso.com', 'Megan Bowen', 'NEEDS-ACTION', 'OPT-PARTICIPANT', 'INDIVIDUAL', true],
    ['baker@contoso.com', 'Conf Room Baker', 'NEEDS-ACTION', 'NON-PARTICIPANT', 'RESOURCE', false],
  ]);
  assert.equal(single.firstStart, at('2024-01-15T18:00:00Z')); // 10:00 PST
  assert.equal(single.lastEnd, at('2024-01-15T19:00:00Z'));
  assert.equal(single.recurring, false);
  assert.deepEqual(single.exceptions, []);
  assert.ok(single.xProps['X-MICROSOFT-SKYPETEAMSMEETINGURL']?.startsWith('https://teams.microsoft.com/l/meetup-join/19%3ameeting_'));
  assert.equal(
    single.xProps['X-MICROSOFT-ONLINEMEETINGCONFLINK']?.split('!')[0],
    'conf:sip:AdeleV@contoso.com;gruu;opaque=app:conf:focus:id:teams:2:0',
    'TEXT-decoded: \\; becomes ;',
  );
  assert.match(single.xProps['X-ALT-DESC'] ?? '', /^<html>\n<head>/);
  assert.equal(single.xProps['X-MICROSOFT-CDO-BUSYSTATUS'], 'BUSY');
});

test('Outlook: a weekly series across the DST change ends at its UNTIL, with the EXDATE skipped', () => {
  const series = objectsOf('outlook-teams.ics')[1] as ObjectIndex;
  assert.equal(series.recurring, true);
  assert.equal(series.firstStart, at('2024-02-06T17:00:00Z')); // 09:00 PST
  assert.equal(series.lastEnd, at('2024-03-26T16:30:00Z')); // 09:30 PDT
  const ics = splitCalendar(decodeIcs(fs.readFileSync(new URL('outlook-teams.ics', dir)))).objects[1]?.ics ?? '';
  const starts = occurrencesBetween(ics, at('2024-02-01T00:00:00Z'), at('2024-04-01T00:00:00Z')).map((o) => new Date(o.start).toISOString());
  assert.deepEqual(starts, [
    '2024-02-06T17:00:00.000Z',
    '2024-02-13T17:00:00.000Z',
    '2024-02-27T17:00:00.000Z',
    '2024-03-05T17:00:00.000Z',
    '2024-03-12T16:00:00.000Z',
    '2024-03-19T16:00:00.000Z',
    '2024-03-26T16:00:00.000Z',
  ]);
});

test('Google: an endless weekly series has lastEnd null and its moved instance as an exception', () => {
  const [weekly, holiday] = objectsOf('google-calendar.ics');
  assert.ok(weekly && holiday);
  assert.equal(weekly.summary, '週次定例 🚀');
  assert.equal(weekly.organizer, 'hanako.tanaka@example.jp');
  assert.deepEqual(who(weekly), [
    ['hanako.tanaka@example.jp', '田中 花子', 'ACCEPTED', 'REQ-PARTICIPANT', 'INDIVIDUAL', false],
    ['ken.sato@example.jp', '佐藤 健', 'TENTATIVE', 'REQ-PARTICIPANT', 'INDIVIDUAL', false],
    ['bob@example.com', 'bob@example.com', 'NEEDS-ACTION', 'REQ-PARTICIPANT', 'INDIVIDUAL', true],
  ]);
  assert.equal(weekly.firstStart, at('2024-02-20T05:00:00Z'));
  assert.equal(weekly.lastEnd, null);
  assert.equal(weekly.recurring, true);
  assert.deepEqual(weekly.exceptions, [
    { recurrenceId: at('2024-03-05T05:00:00Z'), start: at('2024-03-05T07:00:00Z'), end: at('2024-03-05T08:00:00Z'), cancelled: false },
  ]);
  assert.deepEqual(weekly.xProps, { 'X-GOOGLE-CONFERENCE': 'https://meet.google.com/abc-defg-hij' });
});

test('Google: an all-day event (VALUE=DATE) spans its day, taken as UTC midnight to midnight', () => {
  const holiday = objectsOf('google-calendar.ics')[1] as ObjectIndex;
  assert.equal(holiday.summary, '春分の日 🌸');
  assert.equal(holiday.organizer, null);
  assert.deepEqual(holiday.attendees, []);
  assert.equal(holiday.firstStart, at('2024-03-20T00:00:00Z'));
  assert.equal(holiday.lastEnd, at('2024-03-21T00:00:00Z'));
});

test('Apple: LF file, quoted CN with umlauts, VALARM with its own UID, and a monthly COUNT series', () => {
  const [coffee, club] = objectsOf('apple-calendar.ics');
  assert.ok(coffee && club);
  assert.equal(coffee.uid, '6B29FC40-CA47-1067-B31D-00DD010662DA');
  assert.equal(coffee.summary, 'Kaffee mit Zoë ☕️ — Planung für’s Sommerfest');
  assert.equal(coffee.organizer, 'zoe@example.de');
  assert.deepEqual(who(coffee), [
    ['zoe@example.de', 'Zoë Müller', 'ACCEPTED', 'CHAIR', 'INDIVIDUAL', false],
    ['juergen@example.de', 'Jürgen Weiß', 'NEEDS-ACTION', 'REQ-PARTICIPANT', 'INDIVIDUAL', true],
  ]);
  assert.equal(coffee.firstStart, at('2024-06-12T08:30:00Z')); // 10:30 CEST
  assert.equal(coffee.lastEnd, at('2024-06-12T09:30:00Z'));
  assert.equal(coffee.xProps['X-APPLE-STRUCTURED-LOCATION'], 'geo:52.520008,13.404954', 'VALUE=URI is not TEXT-decoded');
  assert.equal(club.firstStart, at('2024-10-28T18:00:00Z')); // 19:00 CET, the day after the change back
  assert.equal(club.lastEnd, at('2024-12-28T20:00:00Z'));
  assert.equal(club.recurring, true);
});

test('Thunderbird: organizer with parameters, a room attendee and X-MOZ properties', () => {
  const [review] = objectsOf('thunderbird.ics');
  assert.ok(review);
  assert.equal(review.organizer, 'john.doe@example.org');
  assert.deepEqual(who(review), [
    ['jane.roe@example.org', 'Jane Roe', 'NEEDS-ACTION', 'REQ-PARTICIPANT', 'INDIVIDUAL', true],
    ['mike.obrien@example.org', "Mike O'Brien", 'ACCEPTED', 'OPT-PARTICIPANT', 'INDIVIDUAL', false],
    ['room-412@example.org', 'Room 4.12', 'ACCEPTED', 'NON-PARTICIPANT', 'ROOM', false],
  ]);
  assert.equal(review.firstStart, at('2024-03-05T14:00:00Z')); // 09:00 EST
  assert.equal(review.lastEnd, at('2024-03-05T14:30:00Z'));
  assert.deepEqual(Object.keys(review.xProps), ['X-MOZ-SEND-INVITATIONS', 'X-MOZ-SEND-INVITATIONS-UNDISCLOSED', 'X-MOZ-GENERATION', 'X-MOZ-LASTACK', 'X-MOZ-SNOOZE-TIME']);
});

test('RTL text and combining marks come through unchanged in summary and names', () => {
  const [meeting] = objectsOf('rtl-combining.ics');
  assert.ok(meeting);
  assert.equal(meeting.summary, 'اجتماع الفريق — פגישת צוות');
  assert.equal(meeting.organizer, 'david.cohen@example.co.il');
  assert.deepEqual(meeting.attendees.map((a) => a.name), ['مَرْيَم الحَسَن', 'Zoe\u0308 Ne\u0301ron']);
  assert.equal(meeting.firstStart, at('2024-04-10T12:00:00Z'));
});

test('a weekly series with a moved, a cancelled and an excluded instance (RFC 5545 §3.8.4.4, §3.8.5.1)', () => {
  const [s] = objectsOf('recurring-series.ics');
  assert.ok(s);
  assert.equal(s.firstStart, at('2024-03-04T09:00:00Z'));
  assert.equal(s.lastEnd, at('2024-05-10T14:00:00Z'), 'the last instance was moved to Friday 15:00 CEST');
  assert.deepEqual(s.exceptions, [
    { recurrenceId: at('2024-03-18T09:00:00Z'), start: at('2024-03-19T13:00:00Z'), end: at('2024-03-19T14:00:00Z'), cancelled: false },
    { recurrenceId: at('2024-04-15T08:00:00Z'), start: at('2024-04-15T08:00:00Z'), end: at('2024-04-15T09:00:00Z'), cancelled: true },
    { recurrenceId: at('2024-05-06T08:00:00Z'), start: at('2024-05-10T13:00:00Z'), end: at('2024-05-10T14:00:00Z'), cancelled: false },
  ]);
});

test('occurrencesBetween skips EXDATEs and cancelled instances and moves exceptions', () => {
  const ics = splitCalendar(decodeIcs(fs.readFileSync(new URL('recurring-series.ics', dir)))).objects[0]?.ics ?? '';
  const list = occurrencesBetween(ics, at('2024-03-11T00:00:00Z'), at('2024-05-31T00:00:00Z'));
  assert.deepEqual(
    list.map((o) => [new Date(o.start).toISOString(), o.recurrenceId === null ? null : new Date(o.recurrenceId).toISOString()]),
    [
      ['2024-03-11T09:00:00.000Z', '2024-03-11T09:00:00.000Z'],
      ['2024-03-19T13:00:00.000Z', '2024-03-18T09:00:00.000Z'],
      ['2024-03-25T09:00:00.000Z', '2024-03-25T09:00:00.000Z'],
      // 1 April: EXDATE; 15 April: cancelled
      ['2024-04-08T08:00:00.000Z', '2024-04-08T08:00:00.000Z'],
      ['2024-04-22T08:00:00.000Z', '2024-04-22T08:00:00.000Z'],
      ['2024-04-29T08:00:00.000Z', '2024-04-29T08:00:00.000Z'],
      ['2024-05-10T13:00:00.000Z', '2024-05-06T08:00:00.000Z'],
    ],
  );
  assert.equal(occurrencesBetween(ics, at('2024-03-11T00:00:00Z'), at('2024-05-31T00:00:00Z'), 2).length, 2);
  assert.deepEqual(occurrencesBetween(ics, at('2024-06-01T00:00:00Z'), at('2025-01-01T00:00:00Z')), []);
});

// ---------------------------------------------------------------- time zones and edge cases

const wrap = (vevents: string, extra = ''): string =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Index//EN\r\n${extra}${vevents}END:VCALENDAR\r\n`;
const vevent = (lines: string[]): string => ['BEGIN:VEVENT', 'UID:t@example.com', 'DTSTAMP:20240101T000000Z', ...lines, 'END:VEVENT', ''].join('\r\n');

test('a TZID without VTIMEZONE that names an IANA zone is resolved through Intl', () => {
  const i = indexObject(wrap(vevent(['DTSTART;TZID=America/New_York:20240701T090000', 'DTEND;TZID=America/New_York:20240701T100000'])));
  assert.equal(i.firstStart, at('2024-07-01T13:00:00Z')); // EDT
  const w = indexObject(wrap(vevent(['DTSTART;TZID=America/New_York:20240115T090000', 'DURATION:PT45M'])));
  assert.equal(w.firstStart, at('2024-01-15T14:00:00Z')); // EST
  assert.equal(w.lastEnd, at('2024-01-15T14:45:00Z'));
});

test('an IANA series without VTIMEZONE keeps its wall-clock time across DST', () => {
  const ics = wrap(vevent(['DTSTART;TZID=Europe/Berlin:20240325T100000', 'DTEND;TZID=Europe/Berlin:20240325T110000', 'RRULE:FREQ=WEEKLY;COUNT=2']));
  assert.deepEqual(occurrencesBetween(ics, 0, at('2030-01-01T00:00:00Z')).map((o) => o.start), [at('2024-03-25T09:00:00Z'), at('2024-04-01T08:00:00Z')]);
});

test('floating times and TZIDs nobody can resolve are taken as UTC', () => {
  assert.equal(indexObject(wrap(vevent(['DTSTART:20240701T090000']))).firstStart, at('2024-07-01T09:00:00Z'));
  assert.equal(indexObject(wrap(vevent(['DTSTART;TZID=Mars/Olympus_Mons:20240701T090000']))).firstStart, at('2024-07-01T09:00:00Z'));
});

test('each object uses its own VTIMEZONE: the same TZID defined differently does not leak between objects', () => {
  const tz = (offset: string): string =>
    `BEGIN:VTIMEZONE\r\nTZID:Office Time\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:${offset}\r\nTZOFFSETTO:${offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n`;
  const event = vevent(['DTSTART;TZID=Office Time:20240701T090000']);
  assert.equal(indexObject(wrap(event, tz('+0200'))).firstStart, at('2024-07-01T07:00:00Z'));
  assert.equal(indexObject(wrap(event, tz('-0500'))).firstStart, at('2024-07-01T14:00:00Z'));
  assert.equal(indexObject(wrap(event)).firstStart, at('2024-07-01T09:00:00Z'), 'no VTIMEZONE: not resolved from another object');
});

test('RDATEs add instances and DATE-valued EXDATEs remove a whole day (RFC 5545 §3.8.5.2)', () => {
  const ics = wrap(vevent(['DTSTART;VALUE=DATE:20240601', 'RRULE:FREQ=DAILY;COUNT=3', 'RDATE;VALUE=DATE:20240610', 'EXDATE;VALUE=DATE:20240602']));
  const i = indexObject(ics);
  assert.equal(i.firstStart, at('2024-06-01T00:00:00Z'));
  assert.equal(i.lastEnd, at('2024-06-11T00:00:00Z'));
  assert.deepEqual(occurrencesBetween(ics, 0, at('2025-01-01T00:00:00Z')).map((o) => new Date(o.start).toISOString().slice(0, 10)), ['2024-06-01', '2024-06-03', '2024-06-10']);
});

test('a series beyond the iteration cap is treated as never ending', () => {
  const i = indexObject(wrap(vevent(['DTSTART:20240101T000000Z', 'RRULE:FREQ=MINUTELY;UNTIL=20250101T000000Z'])));
  assert.equal(i.firstStart, at('2024-01-01T00:00:00Z'));
  assert.equal(i.lastEnd, null);
});

test('a series whose every instance is cancelled falls back to its nominal span', () => {
  const ics = wrap(
    vevent(['DTSTART:20240101T100000Z', 'DTEND:20240101T110000Z', 'RRULE:FREQ=DAILY;COUNT=2', 'EXDATE:20240102T100000Z']) +
      vevent(['RECURRENCE-ID:20240101T100000Z', 'DTSTART:20240101T100000Z', 'DTEND:20240101T110000Z', 'STATUS:CANCELLED']),
  );
  const i = indexObject(ics);
  assert.equal(i.firstStart, at('2024-01-01T10:00:00Z'));
  assert.equal(i.lastEnd, at('2024-01-01T11:00:00Z'));
  assert.deepEqual(occurrencesBetween(ics, 0, at('2030-01-01T00:00:00Z')), []);
});

test('an object with two UIDs, no VCALENDAR, or bad dates is refused with a one-line MmsError', () => {
  const two = wrap(vevent(['DTSTART:20240101T100000Z']) + vevent(['DTSTART:20240101T100000Z']).replace('UID:t@example.com', 'UID:other'));
  const cases: Array<[string, RegExp]> = [
    [two, /^t@example\.com: the object also holds UID other; store one UID per object/],
    ['BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n', /^line 1: this is not an iCalendar object \(no BEGIN:VCALENDAR\)/],
    [wrap(vevent(['DTSTART:20241301T100000Z'])), /^t@example\.com: DTSTART value "20241301T100000Z" on line 7 is not a valid date-time; /],
    [wrap(vevent(['DTSTART:20240101T100000Z', 'DURATION:1 hour'])), /^t@example\.com: DURATION "1 hour" on line 8 is not a valid duration; /],
    [wrap(vevent(['SUMMARY:no start'])), /^t@example\.com: VEVENT beginning on line 4 has no DTSTART; /],
    [wrap(''), /^line 1: the VCALENDAR holds no VEVENT, VTODO or VJOURNAL/],
  ];
  for (const [ics, message] of cases) {
    assert.throws(
      () => indexObject(ics),
      (e: unknown) => e instanceof MmsError && e.code === 'Invalid' && message.test(e.message) && !/[\r\n]/.test(e.message),
      String(message),
    );
  }
});
