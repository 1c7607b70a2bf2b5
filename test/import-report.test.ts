// Import-MmsCalendar / Export-MmsCalendar through the real `mms` entry on both databases: a file of several
// VCALENDARs is taken one VCALENDAR at a time, and every import says exactly what it did — its counts, each
// problem naming its object once, exit code 1 and one line naming the file when nothing came in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { TEST_DATABASES } from './helpers/databases.js';
import { CMDLETS } from '../src/cli/cmdlets/index.js';
import { runCli } from '../src/cli/run-cli.js';

const NOW = Date.UTC(2026, 10, 2, 9);
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const fixture = (name: string): string => path.join(FIXTURES, name);
const KEN = 'ken@contoso.com';

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, read: () => text };
}

async function mms(url: string, ...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, { stdout: out.stream, stderr: err.stream, env: { MMS_DATABASE_URL: url, MMS_ACTOR: 'tester' }, isTty: false, now: () => NOW }, CMDLETS);
  return { code, out: out.read(), err: err.read() };
}

interface ImportJson {
  Imported: number;
  Replaced: number;
  OnlineMeetings: number;
  Problems: string[];
}

async function importJson(url: string, file: string): Promise<{ code: number; result: ImportJson; err: string }> {
  const r = await mms(url, 'Import-MmsCalendar', KEN, '-Path', fixture(file), '--json');
  return { code: r.code, result: JSON.parse(r.out) as ImportJson, err: r.err };
}

async function exported(url: string): Promise<string> {
  const r = await mms(url, 'Export-MmsCalendar', KEN, '-Path', '-');
  assert.equal(r.code, 0, r.err);
  return r.out;
}

/** The VCALENDARs of a text, as written. */
const calendarsOf = (text: string): string[] => text.match(/BEGIN:VCALENDAR[\s\S]*?END:VCALENDAR\r\n/g) ?? [];

async function setUp(url: string): Promise<void> {
  for (const argv of [['New-MmsTenant', '-Name', 'Contoso', '-Domain', 'contoso.com'], ['New-MmsUser', KEN, '-DisplayName', 'Ken Miller']]) {
    const r = await mms(url, ...argv);
    assert.equal(r.code, 0, r.err);
  }
}

function assertOneErrorLine(err: string): void {
  assert.match(err, /^mms: /);
  assert.equal(err.trim().split('\n').length, 1, `more than one line: ${err}`);
}

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Import-MmsCalendar reports`, { skip: t.skip }, () => {
    it('a file of two VCALENDARs comes back from Export byte for byte, each object with its own METHOD, X-WR-* and VTIMEZONE', async () => {
      const { url, drop } = await t.fresh();
      try {
        await setUp(url);
        const text = fs.readFileSync(fixture('import-concatenated.ics'), 'utf8');
        const r = await importJson(url, 'import-concatenated.ics');
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(r.result, { Imported: 3, Replaced: 0, OnlineMeetings: 0, Problems: [] });
        const out = await exported(url);
        assert.equal(out, text);
        const [team, home] = calendarsOf(out);
        assert.match(team ?? '', /METHOD:PUBLISH\r\nX-WR-CALNAME:Team\r\n[\s\S]*TZID:Europe\/Paris[\s\S]*UID:team-standup[\s\S]*UID:design-review/);
        assert.doesNotMatch(team ?? '', /America\/New_York|dentist/);
        assert.match(home ?? '', /X-WR-CALNAME:Ken \(personal\)\r\n[\s\S]*TZID:America\/New_York[\s\S]*UID:dentist/);
        assert.doesNotMatch(home ?? '', /METHOD|Europe\/Paris|Team/);
        // Importing it again replaces all three and says so.
        const again = await importJson(url, 'import-concatenated.ics');
        assert.deepEqual(again.result, { Imported: 0, Replaced: 3, OnlineMeetings: 0, Problems: [] });
        assert.equal(await exported(url), text);
      } finally {
        await drop();
      }
    });

    it('the same UID in two VCALENDARs is reported in one line naming the UID and both positions, and is not merged', async () => {
      const { url, drop } = await t.fresh();
      try {
        await setUp(url);
        const r = await importJson(url, 'import-duplicate-uid.ics');
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(r.result, {
          Imported: 2,
          Replaced: 0,
          OnlineMeetings: 0,
          Problems: [
            'design-review@contoso.com: the same UID is in VCALENDAR 1 of the file (VEVENT on line 25) and in VCALENDAR 2 (VEVENT on line 66), under different calendar lines; only the first was imported; if the second is a newer version of the same meeting, import it as a file of its own to replace the first; if it is another meeting, give it a UID of its own',
          ],
        });
        const [team, home, more] = calendarsOf(await exported(url));
        assert.equal(more, undefined);
        assert.equal((team?.match(/^BEGIN:VEVENT/gm) ?? []).length, 1, 'one master, from the first VCALENDAR');
        assert.match(team ?? '', /METHOD:PUBLISH[\s\S]*SUMMARY:Design review\r\n/);
        assert.doesNotMatch(team ?? '', /moved/);
        assert.match(home ?? '', /UID:dentist/);
        assert.doesNotMatch(home ?? '', /design-review/);
      } finally {
        await drop();
      }
    });

    it('a file where nothing can be taken exits 1, lists each problem naming its object once, and says so in one line', async () => {
      const { url, drop } = await t.fresh();
      try {
        await setUp(url);
        const file = fixture('import-nothing-usable.ics');
        const r = await importJson(url, 'import-nothing-usable.ics');
        assert.equal(r.code, 1);
        assert.deepEqual(r.result, {
          Imported: 0,
          Replaced: 0,
          OnlineMeetings: 0,
          Problems: [
            'line 4: VEVENT beginning on line 4 has no UID; add a UID property (RFC 5545 §3.8.4.7) or export the calendar again',
            'bad-date@contoso.com: DTSTART value "20261345T093000Z" on line 12 is not a valid date-time; correct the DTSTART line: write it as YYYYMMDD or YYYYMMDDTHHMMSS (RFC 5545 §3.3.4, §3.3.5) or export the meeting again',
          ],
        });
        assert.equal(r.err, `mms: nothing was imported from ${file}: see the 2 problems listed under Problems; fix them, or export the calendar again, and import it again\n`);
        // The table form names each object once too.
        const table = await mms(url, 'Import-MmsCalendar', KEN, '-Path', file);
        assert.equal(table.code, 1);
        assert.match(table.out, /line 4: VEVENT beginning/);
        assert.doesNotMatch(table.out, /line 4: line 4:|bad-date@contoso\.com: bad-date@contoso\.com:/);
      } finally {
        await drop();
      }
    });

    it('a calendar without meetings, an empty file, a vCard and a Latin-1 file each exit 1 with one line naming the file and the fix; an Export that cannot write names its path', async () => {
      const { url, drop } = await t.fresh();
      try {
        await setUp(url);
        const cases: Array<[string, string]> = [
          ['import-no-meetings.ics', `mms: nothing was imported: ${fixture('import-no-meetings.ics')} holds no VEVENT, VTODO or VJOURNAL; export the calendar with its meetings and import that file\n`],
          ['import-empty.ics', `mms: ${fixture('import-empty.ics')} is empty; export the calendar again as an .ics file and import that file\n`],
          ['import-not-icalendar.ics', `mms: ${fixture('import-not-icalendar.ics')} is not an iCalendar file: line 1 is "BEGIN:VCARD", and no line is BEGIN:VCALENDAR; export the calendar as .ics and import that file\n`],
        ];
        for (const [file, message] of cases) {
          const r = await mms(url, 'Import-MmsCalendar', KEN, '-Path', fixture(file));
          assert.equal(r.code, 1, `${file}: exit ${r.code}, ${r.err}`);
          assert.equal(r.err, message);
        }
        const latin1 = await mms(url, 'Import-MmsCalendar', KEN, '-Path', fixture('import-latin1.ics'));
        assert.equal(latin1.code, 1);
        assertOneErrorLine(latin1.err);
        assert.ok(latin1.err.startsWith(`mms: ${fixture('import-latin1.ics')}, line 9 `), latin1.err);
        assert.match(latin1.err, /invalid UTF-8/);
        const nowhere = path.join(FIXTURES, 'no-such-folder', 'out.ics');
        const write = await mms(url, 'Export-MmsCalendar', KEN, '-Path', nowhere);
        assert.equal(write.code, 2);
        assert.equal(write.err, `mms: -Path ${nowhere} is in a folder that does not exist (${path.dirname(nowhere)}); create the folder or choose another path\n`);
        assert.equal(await exported(url), 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//MMS//Meeting Migration Service//EN\r\nEND:VCALENDAR\r\n', 'nothing was stored');
      } finally {
        await drop();
      }
    });
  });
}
