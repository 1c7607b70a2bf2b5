// Time zones as real calendars write them: Windows names from Outlook and Exchange (CLDR windowsZones), the
// object's own VTIMEZONE first (RFC 5545 §3.2.19, §3.6.5), unresolved TZIDs reported, floating times
// (RFC 5545 §3.3.5) read in the organizer's zone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ianaZoneOf, indexObject, occurrencesBetween } from './index.js';

const at = (iso: string): number => Date.parse(iso);
const wrap = (vevents: string, extra = ''): string =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Zones//EN\r\n${extra}${vevents}END:VCALENDAR\r\n`;
const vevent = (lines: string[]): string => ['BEGIN:VEVENT', 'UID:z@example.com', 'DTSTAMP:20240101T000000Z', ...lines, 'END:VEVENT', ''].join('\r\n');
const fixedZone = (tzid: string, offset: string): string =>
  `BEGIN:VTIMEZONE\r\nTZID:${tzid}\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:${offset}\r\nTZOFFSETTO:${offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n`;

test('Windows zone names map to IANA through CLDR windowsZones, in any letter case', () => {
  assert.equal(ianaZoneOf('Pacific Standard Time'), 'America/Los_Angeles');
  assert.equal(ianaZoneOf('pacific standard time'), 'America/Los_Angeles');
  assert.equal(ianaZoneOf('W. Europe Standard Time'), 'Europe/Berlin');
  assert.equal(ianaZoneOf('Tokyo Standard Time'), 'Asia/Tokyo');
  // CLDR lists Asia/Calcutta; Intl spells the same zone its own way, and that spelling is what we keep.
  assert.equal(ianaZoneOf('India Standard Time'), ianaZoneOf('Asia/Kolkata'));
  assert.equal(ianaZoneOf('UTC'), 'UTC');
});

test('IANA names are accepted in Intl\'s spelling and anything else is unknown', () => {
  assert.equal(ianaZoneOf('america/new_york'), 'America/New_York');
  assert.equal(ianaZoneOf(' Europe/Paris '), 'Europe/Paris');
  assert.equal(ianaZoneOf('Mars/Olympus_Mons'), null);
  assert.equal(ianaZoneOf('Pacific Time'), null);
  assert.equal(ianaZoneOf(''), null);
});

test('a Windows TZID without VTIMEZONE is read in its IANA zone, across DST', () => {
  const summer = indexObject(wrap(vevent(['DTSTART;TZID=Pacific Standard Time:20240701T090000', 'DTEND;TZID=Pacific Standard Time:20240701T100000'])));
  assert.equal(summer.firstStart, at('2024-07-01T16:00:00Z')); // PDT, UTC-7
  assert.equal(summer.lastEnd, at('2024-07-01T17:00:00Z'));
  assert.deepEqual(summer.unknownZones, []);
  const series = wrap(vevent(['DTSTART;TZID=W. Europe Standard Time:20240325T100000', 'DURATION:PT1H', 'RRULE:FREQ=WEEKLY;COUNT=2']));
  assert.deepEqual(occurrencesBetween(series, 0, at('2030-01-01T00:00:00Z')).map((o) => o.start), [at('2024-03-25T09:00:00Z'), at('2024-04-01T08:00:00Z')]);
});

test('the object\'s own VTIMEZONE takes precedence over the Windows name it carries (RFC 5545 §3.2.19)', () => {
  // A deliberately different definition: if the mapping won, the start would be 16:00Z.
  const ics = wrap(vevent(['DTSTART;TZID=Pacific Standard Time:20240701T090000']), fixedZone('Pacific Standard Time', '-0500'));
  assert.equal(indexObject(ics).firstStart, at('2024-07-01T14:00:00Z'));
});

test('an unusable VTIMEZONE (no observance) falls back to the Windows name; an unknown name is reported', () => {
  const empty = (tzid: string): string => `BEGIN:VTIMEZONE\r\nTZID:${tzid}\r\nEND:VTIMEZONE\r\n`;
  const mapped = indexObject(wrap(vevent(['DTSTART;TZID=Pacific Standard Time:20240701T090000']), empty('Pacific Standard Time')));
  assert.equal(mapped.firstStart, at('2024-07-01T16:00:00Z'));
  assert.deepEqual(mapped.unknownZones, []);
  const unknown = indexObject(wrap(vevent(['DTSTART;TZID=Office Time:20240701T090000']), empty('Office Time')));
  assert.equal(unknown.firstStart, at('2024-07-01T09:00:00Z'), 'read as UTC');
  assert.deepEqual(unknown.unknownZones, ['Office Time']);
});

test('a TZID nobody can resolve is read as UTC and listed, even with a floating zone given', () => {
  const i = indexObject(wrap(vevent(['DTSTART;TZID="(UTC-08:00) Pacific Time (US & Canada)":20240701T090000'])), { timeZone: 'Asia/Tokyo' });
  assert.equal(i.firstStart, at('2024-07-01T09:00:00Z'));
  assert.deepEqual(i.unknownZones, ['(UTC-08:00) Pacific Time (US & Canada)']);
  assert.equal(i.floatingZone, null, 'a TZID, even an unknown one, is not floating');
});

test('floating times and all-day dates are read in the organizer\'s zone, and the object says so', () => {
  const ics = wrap(vevent(['DTSTART:20240701T090000', 'DTEND:20240701T100000', 'RRULE:FREQ=DAILY;COUNT=2', 'EXDATE:20240702T090000']));
  assert.equal(indexObject(ics).firstStart, at('2024-07-01T09:00:00Z'), 'default UTC');
  const seattle = indexObject(ics, { timeZone: 'America/Los_Angeles' });
  assert.equal(seattle.firstStart, at('2024-07-01T16:00:00Z'));
  assert.equal(seattle.lastEnd, at('2024-07-01T17:00:00Z'), 'the floating EXDATE removes the second instance in the same zone');
  assert.equal(seattle.floatingZone, 'America/Los_Angeles');
  const allDay = indexObject(wrap(vevent(['DTSTART;VALUE=DATE:20241130', 'DTEND;VALUE=DATE:20241201'])), { timeZone: 'America/Los_Angeles' });
  assert.equal(allDay.lastEnd, at('2024-12-01T08:00:00Z'), 'the day ends at midnight in Seattle');
  const zoned = indexObject(wrap(vevent(['DTSTART:20240701T090000Z'])), { timeZone: 'America/Los_Angeles' });
  assert.equal(zoned.floatingZone, null, 'UTC times do not depend on the organizer\'s zone');
  assert.deepEqual(occurrencesBetween(ics, 0, at('2030-01-01T00:00:00Z'), 10, { timeZone: 'Europe/Berlin' }).map((o) => o.start), [at('2024-07-01T07:00:00Z')]);
});
