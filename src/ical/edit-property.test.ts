// Property tests of the core promise: replacing the block inside DESCRIPTION changes that one content line
// and nothing else, for any surrounding text, in any script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { ICAL } from './setup.js';
import { buildEvent, decodeIcs, editEvents, splitCalendar } from './index.js';

const BLOCK_A = '\n________________\nMicrosoft Teams meeting\nJoin: https://teams.example/l/meetup-join/aaa\nDial-in: +1 206-555-0100,,111#\nConference ID: 111 111 111#\n________________\n';
const BLOCK_B = '\n________________\nMicrosoft Teams meeting\nJoin: https://teams.example/l/meetup-join/bbb-longer-link-0123456789\nDial-in: +44 20 7946 0000,,222#; +49 30 1234567,,222#\nConference ID: 222 222 222#\nKonferenz-ID: 222 222 222# · 会議 ID · מזהה\n________________\n';

// What RFC 5545 TEXT can carry: anything but control characters other than tab and line feed (a CR has no
// escape; §3.3.11), so generated text leaves those out. Everything else is fair game.
const representable = (s: string): boolean => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s);
const tricky = fc.constantFrom(
  '👩🏽‍💻', '🇯🇵', '🚀', '会議', '東京オフィス', 'שלום', 'مَرْحَبًا', '\u200F', '\u202Bאבג\u202C', 'e\u0301', 'n\u0303', 'क्षत्रिय',
  '\n', '\n\n', ',', ';', ':', '\\', '\\n', '\\,', '"', "'", '^', '\t', ' ', 'x', '________________',
);
const piece = fc.oneof(
  { arbitrary: tricky, weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 6 }).filter(representable), weight: 1 },
);
const text = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));
const xName = fc.stringMatching(/^X-[A-Z][A-Z0-9-]{0,18}$/).filter((n) => n !== 'X-ALT-DESC');
const attendee = fc.record({
  address: fc.stringMatching(/^[a-z][a-z0-9.]{0,10}@example\.(com|jp|de)$/),
  name: fc.option(text.filter((n) => n.length > 0), { nil: undefined }),
});

/** Logical lines with their raw bytes. */
function logicalLines(ics: string): string[] {
  const out: string[] = [];
  for (const physical of ics.split(/(?<=\n)/)) {
    if ((physical.startsWith(' ') || physical.startsWith('\t')) && out.length) out[out.length - 1] += physical;
    else out.push(physical);
  }
  return out;
}
const isDescription = (line: string): boolean => /^DESCRIPTION[;:]/i.test(line);

/** Checks the octet limit and that every physical line is valid UTF-8 on its own (no fold inside a sequence). */
function assertPhysicalLines(ics: string): void {
  const bytes = Buffer.from(ics, 'utf8');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    const end = bytes[i - 1] === 0x0d ? i - 1 : i;
    const physical = bytes.subarray(start, end);
    assert.ok(physical.length <= 75, `a physical line has ${physical.length} octets`);
    decoder.decode(physical);
    start = i + 1;
  }
  assert.equal(start, bytes.length, 'ends with a line break');
}

function replaceBlockAndCheck(ics: string, before: string, after: string): void {
  const out = editEvents(ics, (e) => {
    const current = e.get('DESCRIPTION');
    assert.equal(current, before + BLOCK_A + after, 'the decoded DESCRIPTION is exactly what was stored');
    e.set('DESCRIPTION', before + BLOCK_B + after);
  });
  // Every content line other than DESCRIPTION keeps its raw bytes, in order.
  assert.deepEqual(logicalLines(out).filter((l) => !isDescription(l)), logicalLines(ics).filter((l) => !isDescription(l)));
  // Decoded by us and, independently, by ical.js.
  editEvents(out, (e) => assert.equal(e.get('DESCRIPTION'), before + BLOCK_B + after));
  const event = new ICAL.Component(ICAL.parse(out)).getFirstSubcomponent('vevent');
  assert.equal(event?.getFirstPropertyValue('description'), before + BLOCK_B + after);
  assertPhysicalLines(out);
}

test('replacing the block in DESCRIPTION changes no other content line, for any text around it', () => {
  fc.assert(
    fc.property(
      text,
      text,
      fc.dictionary(xName, text, { maxKeys: 5 }),
      fc.array(attendee, { maxLength: 4 }),
      text,
      (before, after, xProps, attendees, summary) => {
        const ics = buildEvent({
          uid: 'prop-test@example.com',
          summary,
          start: Date.UTC(2030, 0, 7, 9),
          end: Date.UTC(2030, 0, 7, 10),
          timeZone: 'Europe/Berlin',
          rrule: 'FREQ=WEEKLY;COUNT=5',
          organizer: { address: 'organizer@example.com', name: 'Organizer' },
          attendees,
          description: before + BLOCK_A + after,
          htmlDescription: `<p>${before}</p>`,
          xProps,
          dtstamp: Date.UTC(2029, 11, 1),
        });
        replaceBlockAndCheck(ics, before, after);
      },
    ),
    { numRuns: 200 },
  );
});

/** The first object of the Outlook export with `before` + BLOCK_A + `after` as its DESCRIPTION, folded like Outlook does. */
function outlookExportWith(before: string, after: string): string {
  const outlook = splitCalendar(decodeIcs(fs.readFileSync(new URL('../../test/fixtures/ics/outlook-teams.ics', import.meta.url)))).objects[0]?.ics ?? '';
  const escape = (s: string): string => s.replace(/[\\;,]/g, (c) => '\\' + c).replace(/\n/g, '\\n');
  const original = /\r\nDESCRIPTION;LANGUAGE=en-US:(?:.|\r\n )*\r\n/.exec(outlook)?.[0] ?? '';
  assert.ok(original, 'the fixture has a DESCRIPTION');
  const value = escape(before + BLOCK_A + after);
  const line = `DESCRIPTION;LANGUAGE=en-US:${value}`;
  const folded: string[] = [];
  let rest = line;
  while (rest.length) {
    let n = 0;
    let i = 0;
    for (const ch of rest) {
      const w = Buffer.byteLength(ch);
      if (n + w > (folded.length ? 74 : 75)) break;
      n += w;
      i += ch.length;
    }
    folded.push(rest.slice(0, i));
    rest = rest.slice(i);
  }
  // A replacer function: a replacement string would read `$$`, `$&`, `` $` `` … in the generated text.
  return outlook.replace(original, () => `\r\n${folded.join('\r\n ')}\r\n`);
}

test('replacing the block inside a real Outlook export changes only DESCRIPTION, for any text around it', () => {
  fc.assert(
    fc.property(text, text, (before, after) => replaceBlockAndCheck(outlookExportWith(before, after), before, after)),
    { numRuns: 100 },
  );
});

// String.prototype.replace reads `$$`, `$&`, `$1`, `$'` and `` $` `` in a replacement string: text from data must
// never reach it as one (a generated `$$` once came out as `$`).
test('replacement patterns ($$, $&, $1, $\', $`) in the text around the block are kept as written', () => {
  for (const [before, after] of [['Budget $$ 100 $& $1 $\' $`', 'cost: $$$ $&amp; $2 $\''], ['$', '$$'], ['$&', "$'"]] as const) {
    replaceBlockAndCheck(outlookExportWith(before, after), before, after);
  }
});
