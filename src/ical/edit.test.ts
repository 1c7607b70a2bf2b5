import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ICAL } from './setup.js';
import { type EventEditor, decodeIcs, editEvents, indexObject, splitCalendar } from './index.js';
import { MmsError } from '../domain/errors.js';

const dir = new URL('../../test/fixtures/ics/', import.meta.url);
const read = (name: string): string => decodeIcs(fs.readFileSync(new URL(name, dir)));
const objectOf = (name: string, n = 0): string => splitCalendar(read(name)).objects[n]?.ics ?? '';

/** Logical lines with their raw bytes (folds and line breaks included). */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  for (const physical of text.split(/(?<=\n)/)) {
    if ((physical.startsWith(' ') || physical.startsWith('\t')) && out.length) out[out.length - 1] += physical;
    else out.push(physical);
  }
  return out;
}
const named = (name: string) => (line: string): boolean => line.toUpperCase().startsWith(name + ':') || line.toUpperCase().startsWith(name + ';');

test('get decodes TEXT and getAll returns unquoted, RFC 6868-decoded parameters', () => {
  editEvents(objectOf('outlook-teams.ics'), (e) => {
    assert.equal(e.recurrenceId, null);
    assert.match(e.get('DESCRIPTION') ?? '', /^Agenda:\n1\. Q1 results\n2\. Hiring plan\n\n_{80}\nMicrosoft Teams meeting\nJoin on your computer, mobile app or room device\n/);
    assert.equal(e.get('location'), 'Microsoft Teams Meeting', 'names are case-insensitive');
    assert.equal(e.get('X-NOT-THERE'), null);
    assert.deepEqual(e.getAll('ATTENDEE')[0], { params: { CN: 'Wilber, Alex', RSVP: 'TRUE' }, value: 'mailto:AlexW@contoso.com' });
    assert.deepEqual(e.getAll('DTSTART'), [{ params: { TZID: 'Pacific Standard Time' }, value: '20240115T100000' }]);
  });
});

test('an edit that changes nothing returns the very same text', () => {
  const ics = objectOf('outlook-teams.ics');
  const same = editEvents(ics, (e) => {
    e.set('SUMMARY', 'Quarterly planning');
    e.set('LOCATION', e.get('LOCATION') ?? '');
    e.remove('X-NOT-THERE');
  });
  assert.equal(same, ics);
});

test('set replaces one line in place, keeps its parameters, and leaves every other line byte for byte', () => {
  const ics = objectOf('outlook-teams.ics');
  const out = editEvents(ics, (e) => e.set('DESCRIPTION', (e.get('DESCRIPTION') ?? '').replace('Passcode: 7kQ2xP', 'Passcode: NEW-42')));
  const before = logicalLines(ics);
  const after = logicalLines(out);
  assert.equal(after.length, before.length);
  const changed = after.map((l, i) => (l === before[i] ? -1 : i)).filter((i) => i >= 0);
  assert.equal(changed.length, 1);
  assert.ok(after[changed[0] as number]?.startsWith('DESCRIPTION;LANGUAGE=en-US:Agenda:'), 'parameters kept as written');
  assert.match(out, /Passcode: NEW-42/);
  // The index keeps the DESCRIPTION (the meeting type is read from its block): that, and nothing else, changed.
  const { description: was, ...restBefore } = indexObject(ics);
  const { description: now, ...restAfter } = indexObject(out);
  assert.deepEqual(restAfter, restBefore, 'nothing else the store indexes changed');
  assert.equal(now, was?.replace('Passcode: 7kQ2xP', 'Passcode: NEW-42'));
});

test('add puts a property after the last of its name, else after the last property but before VALARM', () => {
  const out = editEvents(objectOf('outlook-teams.ics'), (e) => {
    e.add('ATTENDEE', 'mailto:new@contoso.com', { CN: 'New Person', PARTSTAT: 'NEEDS-ACTION' });
    e.add('X-MMS-MIGRATED', '2024-05-01');
  });
  const lines = logicalLines(out).map((l) => l.replace(/\r?\n[ \t]?/g, ''));
  const i = lines.indexOf('ATTENDEE;CN=New Person;PARTSTAT=NEEDS-ACTION:mailto:new@contoso.com');
  assert.ok(lines[i - 1]?.startsWith('ATTENDEE;CN=Conf Room Baker'));
  assert.equal(lines[lines.indexOf('X-MMS-MIGRATED:2024-05-01') + 1], 'BEGIN:VALARM');
});

test('remove deletes only the matching properties and counts them', () => {
  let removed = 0;
  const out = editEvents(objectOf('outlook-teams.ics'), (e) => {
    removed = e.remove('ATTENDEE', (p) => p.params['ROLE'] === 'OPT-PARTICIPANT');
  });
  assert.equal(removed, 1);
  assert.deepEqual(indexObject(out).attendees.map((a) => a.address), ['alexw@contoso.com', 'baker@contoso.com']);
});

test('every VEVENT is edited, the master and each RECURRENCE-ID exception (RFC 5545 §3.8.4.4)', () => {
  const seen: Array<string | null> = [];
  editEvents(objectOf('recurring-series.ics'), (e) => void seen.push(e.recurrenceId));
  assert.deepEqual(seen, [null, '20240318T100000', '20240415T100000', '20240506T100000']);
});

test('an LF object stays LF, and new lines fold with LF too', () => {
  const ics = objectOf('apple-calendar.ics');
  const out = editEvents(ics, (e) => e.set('DESCRIPTION', 'Neue Beschreibung, sehr lang: ' + 'Sommerfest im Hof 🎉 '.repeat(6)));
  assert.ok(!out.includes('\r'));
  assert.ok(out.includes('\n '), 'the new DESCRIPTION is folded with LF + space');
});

test('a non-TEXT value is written as given, and VALUE=URI is not escaped', () => {
  const out = editEvents(objectOf('google-calendar.ics'), (e) => {
    if (e.recurrenceId === null) e.set('CONFERENCE', 'https://meet.example/a,b;c', { VALUE: 'URI', FEATURE: 'AUDIO,VIDEO' });
  });
  assert.match(out.replace(/\r\n /g, ''), /\r\nCONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO:https:\/\/meet\.example\/a,b;c\r\n/);
});

test('names an edit may not use are refused', () => {
  assert.throws(() => editEvents(objectOf('thunderbird.ics'), (e) => e.set('END', 'VEVENT')), MmsError);
  assert.throws(() => editEvents(objectOf('thunderbird.ics'), (e) => e.add('X BAD', 'v')), MmsError);
});

test('an object that does not parse is refused before the callback runs', () => {
  let called = false;
  assert.throws(
    () => editEvents('BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:nope\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n', () => void (called = true)),
    (e: unknown) => e instanceof MmsError && e.code === 'Invalid' && /^x: DTSTART value "nope"/.test(e.message),
  );
  assert.equal(called, false);
});

test('attendee responses (PARTSTAT) survive a block-only edit', () => {
  const ics = objectOf('google-calendar.ics');
  const out = editEvents(ics, (e) => e.set('DESCRIPTION', 'new block'));
  assert.deepEqual(indexObject(out).attendees, indexObject(ics).attendees);
});

// ---------------------------------------------------------------- golden input/expected pairs

const goldenEdits: Record<string, (e: EventEditor) => void> = {
  // RFC 5545 §3.1: the new DESCRIPTION folds at 75 octets between whole UTF-8 characters.
  'rfc5545-3.1-fold-utf8': (e) =>
    e.set('DESCRIPTION', (e.get('DESCRIPTION') ?? '').replace('https://meet.google.com/abc-defg-hij', '新しいリンク 👉 https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0 📞 電話: +81 3-4545-0000,,123456#')),
  // RFC 5545 §3.3.11: backslash, semicolon, comma and newline are escaped; \N in the old text is read as newline.
  'rfc5545-3.3.11-text-escaping': (e) => {
    assert.equal(e.get('DESCRIPTION'), 'Old text\nwith an upper-case escape and a path C:\\temp');
    assert.equal(e.get('SUMMARY'), 'Review, part 1; bring notes');
    e.set('DESCRIPTION', 'Dial: +1 206-555-0100,,123#; PIN \\ none\nSee C:\\temp, then call.');
  },
  // RFC 7986 §5.11: FEATURE is multi-valued, LABEL with a comma is quoted; the X-GOOGLE-CONFERENCE line goes.
  'rfc7986-5.11-conference': (e) => {
    e.remove('X-GOOGLE-CONFERENCE');
    e.set('CONFERENCE', 'https://teams.microsoft.com/l/meetup-join/abc', { VALUE: 'URI', FEATURE: 'AUDIO,VIDEO', LABEL: 'Join Microsoft Teams Meeting' });
    e.add('CONFERENCE', 'tel:+12065550100,,123456789#', { VALUE: 'URI', FEATURE: 'PHONE', LABEL: 'United States, Seattle' });
  },
  // RFC 6868 §3: ^' and ^n in parameter values; the file is LF and stays LF.
  'rfc6868-param-caret': (e) => {
    assert.equal(e.getAll('ORGANIZER')[0]?.params['CN'], 'Zoë "Zo" Müller');
    e.add('ATTENDEE', 'mailto:ana@example.pt', { CN: 'Ana "Nina" Lúcia\nLisboa', ROLE: 'REQ-PARTICIPANT', PARTSTAT: 'NEEDS-ACTION', RSVP: 'TRUE' });
  },
  // RFC 5545 §3.8.4.4: master and exception both carry the block; both are replaced, nothing else changes.
  'rfc5545-3.8.4.4-recurrence-exceptions': (e) => {
    e.set('DESCRIPTION', (e.get('DESCRIPTION') ?? '').replace('[block v1]', '[block v2]'));
    e.set('X-MICROSOFT-SKYPETEAMSMEETINGURL', 'https://teams.microsoft.com/l/meetup-join/v2');
  },
};

for (const [name, edit] of Object.entries(goldenEdits)) {
  test(`golden ${name}: the edit gives exactly the expected file`, () => {
    const input = read(`golden/${name}.input.ics`);
    const expectedPath = new URL(`golden/${name}.expected.ics`, dir);
    const out = editEvents(input, edit);
    if (process.env['MMS_UPDATE_GOLDEN'] === '1') fs.writeFileSync(expectedPath, out);
    assert.equal(out, fs.readFileSync(expectedPath, 'utf8'));
    for (const physical of out.split(/\r?\n/)) assert.ok(Buffer.byteLength(physical) <= 75, `line within 75 octets: ${physical}`);
    // ical.js, reading independently, agrees with what the edit meant.
    new ICAL.Component(ICAL.parse(out));
    const unchanged = (l: string): boolean => !['DESCRIPTION', 'CONFERENCE', 'X-GOOGLE-CONFERENCE', 'ATTENDEE', 'X-MICROSOFT-SKYPETEAMSMEETINGURL'].some((n) => named(n)(l));
    assert.deepEqual(logicalLines(out).filter(unchanged), logicalLines(input).filter(unchanged));
  });
}

test('golden rfc6868-param-caret: ical.js reads the new CN back with quote and newline', () => {
  const out = read('golden/rfc6868-param-caret.expected.ics');
  const event = new ICAL.Component(ICAL.parse(out)).getFirstSubcomponent('vevent');
  const cns = event?.getAllProperties('attendee').map((p) => p.getParameter('cn'));
  assert.deepEqual(cns, ['Zoë "Zo" Müller', 'Ana "Nina" Lúcia\nLisboa']);
});

test('golden rfc7986-5.11-conference: ical.js reads FEATURE as a list', () => {
  const out = read('golden/rfc7986-5.11-conference.expected.ics');
  const event = new ICAL.Component(ICAL.parse(out)).getFirstSubcomponent('vevent');
  assert.deepEqual(event?.getAllProperties('conference').map((p) => p.getParameter('feature')), [['AUDIO', 'VIDEO'], 'PHONE']);
});
