import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { decodeIcs, editEvents, indexObject, joinCalendar, splitCalendar } from './index.js';
import { MmsError } from '../domain/errors.js';

const dir = new URL('../../test/fixtures/ics/', import.meta.url);
const fixture = (name: string): string => decodeIcs(fs.readFileSync(new URL(name, dir)));
const FIXTURES = fs.readdirSync(dir).filter((f) => f.endsWith('.ics')).sort();

test('every client fixture is present', () => {
  assert.deepEqual(FIXTURES, [
    'apple-calendar.ics',
    'google-calendar.ics',
    'outlook-teams.ics',
    'recurring-series.ics',
    'rtl-combining.ics',
    'thunderbird.ics',
  ]);
});

for (const name of FIXTURES) {
  test(`${name}: split then join gives back the file byte for byte`, () => {
    const text = fixture(name);
    const { objects, problems } = splitCalendar(text);
    assert.deepEqual(problems, []);
    assert.ok(objects.length > 0);
    assert.equal(joinCalendar(objects.map((o) => o.ics)), text);
  });

  test(`${name}: each object holds one UID, the calendar lines and the VTIMEZONEs it uses, and indexes`, () => {
    const text = fixture(name);
    for (const { uid, ics } of splitCalendar(text).objects) {
      assert.equal(indexObject(ics).uid, uid);
      const unfolded = ics.replace(/\r?\n[ \t]/g, '');
      const uids = new Set([...unfolded.matchAll(/^UID:(.*?)\r?$/gm)].map((m) => m[1]));
      // Apple's VALARM carries its own UID; every other UID line is the object's.
      uids.delete('3F2504E0-4F89-11D3-9A0C-0305E82C3301');
      assert.deepEqual([...uids], [uid]);
      assert.ok(text.startsWith(ics.slice(0, ics.indexOf('BEGIN:V', 10))), 'calendar-level lines are the source lines');
      for (const m of unfolded.matchAll(/TZID="?([^:;"]+)/g)) assert.ok(unfolded.includes(`TZID:${m[1]}`), `VTIMEZONE ${m[1]} included`);
      assert.ok(ics.endsWith('END:VCALENDAR' + (text.includes('\r\n') ? '\r\n' : '\n')));
    }
  });
}

test('Apple LF line breaks are kept in the split objects', () => {
  const { objects } = splitCalendar(fixture('apple-calendar.ics'));
  for (const o of objects) assert.ok(!o.ics.includes('\r'), 'no CR introduced');
});

test('a recurring series stays one object: master and RECURRENCE-ID exceptions together (RFC 5545 §3.8.4.4)', () => {
  const { objects } = splitCalendar(fixture('recurring-series.ics'));
  assert.equal(objects.length, 1);
  assert.equal((objects[0]?.ics.match(/^BEGIN:VEVENT/gm) ?? []).length, 4);
});

test('concatenated VCALENDARs split into objects that each carry their own calendar lines', () => {
  const a = fixture('thunderbird.ics');
  const b = fixture('rtl-combining.ics');
  const { objects, problems } = splitCalendar(a + b);
  assert.deepEqual(problems, []);
  assert.deepEqual(objects.map((o) => o.ics), [a, b]);
});

// ---------------------------------------------------------------- one VCALENDAR at a time (RFC 5545 §3.4)

const vcal = (headLines: string, body: string): string => `BEGIN:VCALENDAR\r\nVERSION:2.0\r\n${headLines}${body}END:VCALENDAR\r\n`;
const event = (uid: string, extra = ''): string =>
  `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Paris:20240105T100000\r\n${extra}END:VEVENT\r\n`;
const paris = (name: string): string =>
  `BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:${name}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n`;

test('concatenated VCALENDARs with different calendar lines come back from join byte for byte', () => {
  const pairs = [['thunderbird.ics', 'google-calendar.ics'], ['google-calendar.ics', 'outlook-teams.ics'], ['outlook-teams.ics', 'apple-calendar.ics']];
  for (const text of pairs.map(([a, b]) => fixture(a as string) + fixture(b as string))) {
    const { objects, problems } = splitCalendar(text);
    assert.deepEqual(problems, []);
    assert.equal(joinCalendar(objects.map((o) => o.ics)), text);
  }
});

test('each object keeps the METHOD, X-WR-* and VTIMEZONEs of its own VCALENDAR, never another one\'s', () => {
  const work = vcal('PRODID:-//T//Work//EN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Work\r\n', paris('CET-work') + event('w'));
  // The second calendar uses the TZID without defining it: it must not borrow the first calendar's definition.
  const home = vcal('PRODID:-//T//Home//EN\r\nX-WR-CALNAME:Home\r\n', event('h'));
  const { objects, problems } = splitCalendar(work + home);
  assert.deepEqual(problems, []);
  assert.deepEqual(objects.map((o) => o.uid), ['w', 'h']);
  assert.equal(objects[0]?.ics, work);
  assert.equal(objects[1]?.ics, home);
  assert.equal(joinCalendar(objects.map((o) => o.ics)), work + home);
});

test('one TZID defined differently in two VCALENDARs: each object gets its own calendar\'s definition', () => {
  const a = vcal('PRODID:-//T//A//EN\r\n', paris('ONE') + event('a'));
  const b = vcal('PRODID:-//T//B//EN\r\n', paris('TWO') + event('b'));
  const { objects } = splitCalendar(a + b);
  assert.deepEqual(objects.map((o) => o.ics), [a, b]);
});

test('the same UID in two VCALENDARs with different calendar lines is reported once with both positions, and only the first is kept', () => {
  const a = vcal('PRODID:-//T//A//EN\r\nMETHOD:PUBLISH\r\n', event('same', 'SUMMARY:first\r\n'));
  const b = vcal('PRODID:-//T//B//EN\r\n', event('other') + event('same', 'SUMMARY:second\r\n') + event('same', 'RECURRENCE-ID;TZID=Europe/Paris:20240112T100000\r\n'));
  const { objects, problems } = splitCalendar(a + b);
  assert.deepEqual(objects.map((o) => o.ics), [a, vcal('PRODID:-//T//B//EN\r\n', event('other'))]);
  assert.deepEqual(problems, [
    {
      uid: 'same',
      line: 20,
      message: 'same: the same UID is in VCALENDAR 1 of the file (VEVENT on line 5) and in VCALENDAR 2 (VEVENT on line 20), under different calendar lines; only the first was imported; if the second is a newer version of the same meeting, import it as a file of its own to replace the first; if it is another meeting, give it a UID of its own',
    },
  ]);
});

test('a master and its exception sent as two VCALENDARs with the same calendar lines are one object; a second master there is reported', () => {
  const headLines = 'PRODID:-//T//T//EN\r\nMETHOD:REQUEST\r\n';
  const rid = 'RECURRENCE-ID;TZID=Europe/Paris:20240112T100000\r\n';
  const master = event('s', 'RRULE:FREQ=WEEKLY;COUNT=3\r\n');
  const text = vcal(headLines, paris('CET') + master) + vcal(headLines, paris('CET') + event('s', rid)) + vcal(headLines, event('s', 'SUMMARY:copy\r\n'));
  const { objects, problems } = splitCalendar(text);
  assert.deepEqual(objects.map((o) => o.ics), [vcal(headLines, paris('CET') + master + event('s', rid))]);
  assert.deepEqual(problems.map((p) => p.message), [
    's: the master VEVENT (no RECURRENCE-ID) on line 45 (VCALENDAR 3) repeats the one on line 14 (VCALENDAR 1), and one meeting cannot hold two (RFC 5545 §3.8.4.7); only the first was imported; remove the older copy, or give the other meeting a UID of its own',
  ]);
});

test('text outside the VCALENDARs is reported once, and the calendars still come through', () => {
  const a = vcal('PRODID:-//T//A//EN\r\n', event('a'));
  const b = vcal('PRODID:-//T//B//EN\r\n', event('b'));
  const { objects, problems } = splitCalendar(`Forwarded message:\r\n\r\n${a}-- \r\n${b}END:VCALENDAR\r\n`);
  assert.deepEqual(objects.map((o) => o.ics), [a, b]);
  assert.deepEqual(problems.map((p) => p.message), [
    'line 1: "Forwarded message:" and 2 more lines outside any VCALENDAR were left out; remove them, or export the calendar again if they belong to a meeting',
  ]);
  assert.deepEqual(splitCalendar(`${a}\r\n\r\n`).problems, [], 'blank lines are not reported');
});

test('a second master, or a repeated RECURRENCE-ID, of one UID is reported and left out instead of merged (RFC 5545 §3.8.4.7)', () => {
  const rid = 'RECURRENCE-ID;TZID=Europe/Paris:20240112T100000\r\n';
  const master = event('s', 'RRULE:FREQ=WEEKLY;COUNT=3\r\n');
  const text = vcal('PRODID:-//T//T//EN\r\n', paris('CET') + master + event('s', rid) + event('s', 'SUMMARY:copy\r\n') + event('s', rid + 'SUMMARY:again\r\n'));
  const { objects, problems } = splitCalendar(text);
  assert.deepEqual(objects.map((o) => o.ics), [vcal('PRODID:-//T//T//EN\r\n', paris('CET') + master + event('s', rid))]);
  assert.deepEqual(problems.map((p) => p.message), [
    's: the master VEVENT (no RECURRENCE-ID) on line 25 repeats the one on line 13, and one meeting cannot hold two (RFC 5545 §3.8.4.7); only the first was imported; remove the older copy, or give the other meeting a UID of its own',
    's: the VEVENT with RECURRENCE-ID 20240112T100000 on line 31 repeats the one on line 19, and one meeting cannot hold two (RFC 5545 §3.8.4.7); only the first was imported; remove the older copy, or give the other meeting a UID of its own',
  ]);
});

test('components of one UID that are not contiguous are grouped, so join reorders them (documented)', () => {
  const vevent = (uid: string, extra = ''): string =>
    `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240105T100000Z\r\n${extra}END:VEVENT\r\n`;
  const text = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//T//EN\r\n${vevent('a', 'RRULE:FREQ=DAILY;COUNT=3\r\n')}${vevent('b')}${vevent('a', 'RECURRENCE-ID:20240106T100000Z\r\n')}END:VCALENDAR\r\n`;
  const { objects } = splitCalendar(text);
  assert.deepEqual(objects.map((o) => o.uid), ['a', 'b']);
  const joined = joinCalendar(objects.map((o) => o.ics));
  assert.notEqual(joined, text);
  assert.equal(joined.length, text.length, 'nothing is lost, only the order changes');
});

// ---------------------------------------------------------------- bad input

const head = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Bad input//EN\r\n';
const good = (uid: string): string =>
  `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240105T100000Z\r\nDTEND:20240105T110000Z\r\nSUMMARY:${uid}\r\nEND:VEVENT\r\n`;

function assertOneLine(message: string): void {
  assert.doesNotMatch(message, /[\r\n]/, 'one line');
  assert.match(message, /; /, 'says what is wrong; then how to fix it');
}

test('a truncated file reports the cut component and still returns the components before it', () => {
  const text = head + good('first') + good('second') + 'BEGIN:VEVENT\r\nUID:third\r\nDTSTART:2024010';
  const { objects, problems } = splitCalendar(text);
  assert.deepEqual(objects.map((o) => o.uid), ['first', 'second']);
  assert.equal(problems.length, 2);
  const [cut, calendar] = problems;
  assert.equal(cut?.uid, 'third');
  assert.equal(cut?.line, 18);
  assert.match(cut?.message ?? '', /^third: BEGIN:VEVENT on line 18 has no END:VEVENT before the end of the file/);
  assert.equal(calendar?.uid, null);
  assert.match(calendar?.message ?? '', /^line 1: BEGIN:VCALENDAR on line 1 has no END:VCALENDAR/);
  for (const p of problems) assertOneLine(p.message);
  for (const o of objects) assert.equal(indexObject(o.ics).uid, o.uid, 'objects of a truncated file are complete');
});

test('a missing END:VCALENDAR is reported, and the objects get one in the file’s line break style', () => {
  const text = head + good('only');
  const { objects, problems } = splitCalendar(text);
  assert.equal(objects.length, 1);
  assert.ok(objects[0]?.ics.endsWith('END:VEVENT\r\nEND:VCALENDAR\r\n'));
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /has no END:VCALENDAR .*; repair the file or export the calendar again$/);
  assert.throws(() => indexObject(text), (e: unknown) => e instanceof MmsError && e.code === 'Invalid' && /no END:VCALENDAR/.test(e.message));
});

test('a component missing its END is reported when the next one begins, and the next one survives', () => {
  const cut = 'BEGIN:VEVENT\r\nUID:cut\r\nDTSTART:20240105T100000Z\r\n';
  const { objects, problems } = splitCalendar(head + cut + good('after') + 'END:VCALENDAR\r\n');
  assert.deepEqual(objects.map((o) => o.uid), ['after']);
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /^cut: BEGIN:VEVENT on line 4 has no END:VEVENT before line 7 \(the file looks truncated\); /);
});

test('a bad DTSTART makes that component a problem; the other components still come through', () => {
  const bad = good('bad').replace('DTSTART:20240105T100000Z', 'DTSTART:2024-13-45T10:00');
  const { objects, problems } = splitCalendar(head + good('a') + bad + good('b') + 'END:VCALENDAR\r\n');
  assert.deepEqual(objects.map((o) => o.uid), ['a', 'b']);
  assert.deepEqual(problems, [
    {
      uid: 'bad',
      line: 14,
      message: 'bad: DTSTART value "2024-13-45T10:00" on line 14 is not a valid date-time; correct the DTSTART line: write it as YYYYMMDD or YYYYMMDDTHHMMSS (RFC 5545 §3.3.4, §3.3.5) or export the meeting again',
    },
  ]);
});

test('an impossible date such as February 30 is a bad date too', () => {
  const bad = good('feb').replace('DTSTART:20240105T100000Z', 'DTSTART:20240230T100000Z');
  const { problems } = splitCalendar(head + bad + 'END:VCALENDAR\r\n');
  assert.match(problems[0]?.message ?? '', /^feb: DTSTART value "20240230T100000Z" on line 7 is not a valid date-time; /);
});

test('a component without UID is a problem named by its line', () => {
  const noUid = good('x').replace('UID:x\r\n', '');
  const { objects, problems } = splitCalendar(head + good('a') + noUid + 'END:VCALENDAR\r\n');
  assert.deepEqual(objects.map((o) => o.uid), ['a']);
  assert.equal(problems[0]?.uid, null);
  assert.match(problems[0]?.message ?? '', /^line 11: VEVENT beginning on line 11 has no UID; add a UID property/);
});

test('a line that is not a content line spoils only its component', () => {
  const broken = good('broken').replace('SUMMARY:broken', 'this line has no colon');
  const { objects, problems } = splitCalendar(head + broken + good('fine') + 'END:VCALENDAR\r\n');
  assert.deepEqual(objects.map((o) => o.uid), ['fine']);
  assert.match(problems[0]?.message ?? '', /^broken: line 9 "this line has no colon" is not a content line/);
  assertOneLine(problems[0]?.message ?? '');
});

test('an RRULE that can never occur is rejected instead of hanging the iterator', () => {
  const bad = good('never').replace('SUMMARY:never', 'RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30');
  const { problems } = splitCalendar(head + bad + 'END:VCALENDAR\r\n');
  assert.match(problems[0]?.message ?? '', /^never: RRULE "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" on line 9 is not a valid recurrence rule; /);
});

test('a file that is not iCalendar at all is rejected with one line naming it and showing its first line', () => {
  assert.throws(
    () => splitCalendar('\r\nSubject: hello\r\n\r\nnot a calendar\r\n', 'mail.eml'),
    (e: unknown) => e instanceof MmsError && e.code === 'Invalid' && e.message === 'mail.eml is not an iCalendar file: line 2 is "Subject: hello", and no line is BEGIN:VCALENDAR; export the calendar as .ics and import that file',
  );
});

test('an empty text is rejected as empty, naming it', () => {
  for (const text of ['', '\uFEFF', '\r\n \r\n']) {
    assert.throws(
      () => splitCalendar(text, 'x.ics'),
      (e: unknown) => e instanceof MmsError && e.code === 'Invalid' && e.message === 'x.ics is empty; export the calendar again as an .ics file and import that file',
    );
  }
});

test('invalid UTF-8 is stopped at decoding, before splitting', () => {
  const bytes = Buffer.concat([Buffer.from(head + 'BEGIN:VEVENT\r\nSUMMARY:Caf'), Buffer.from([0xe9]), Buffer.from('\r\n')]);
  assert.throws(() => decodeIcs(bytes), (e: unknown) => e instanceof MmsError && /^line 5 \(byte offset \d+\): invalid UTF-8 byte 0xE9/.test(e.message));
});

test('joinCalendar refuses an empty list and a non-calendar', () => {
  assert.throws(() => joinCalendar([]), MmsError);
  assert.throws(() => joinCalendar(['hello']), MmsError);
});

test('a byte order mark left in the text does not hide the VCALENDAR, and round-trips', () => {
  const text = '\uFEFF' + head + good('bom') + 'END:VCALENDAR\r\n';
  const { objects } = splitCalendar(text);
  assert.deepEqual(objects.map((o) => o.uid), ['bom']);
  assert.equal(joinCalendar(objects.map((o) => o.ics)), text);
  const ics = objects[0]?.ics ?? '';
  assert.equal(indexObject(ics).uid, 'bom');
  assert.ok(editEvents(ics, (e) => e.set('SUMMARY', 'renamed')).startsWith('\uFEFFBEGIN:VCALENDAR'));
});
