// The manual tool (Invoke-MmsMeetingMigrationTool) for an organizer whose mailbox MMS cannot reach: amy's mailbox
// is on-premises while the tool runs on her exported calendar, then back online so the engine migrates the same
// objects in the built-in store — the tool's file must hold exactly what the engine wrote, every other object
// byte for byte, and its .eml files the engine's iTIP texts in the MIME message SMTP delivery would send.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { ACTOR } from './helpers/directory-fixture.js';
import { EXTERNAL, march, withMigrationFixture, type MigrationFixture } from './helpers/migration-fixture.js';
import { assertValidItip } from './helpers/libical.js';
import { editEvents, splitCalendar } from '../src/ical/index.js';
import { exportCalendar } from '../src/meetings/index.js';

const mms = (fx: MigrationFixture, ...argv: string[]) =>
  runMms({ MMS_DATABASE_URL: fx.url, MMS_ACTOR: ACTOR, MMS_SERVICE_ADDRESS: 'mms@contoso.com' }, () => fx.clock.now, argv);

const setMailbox = (fx: MigrationFixture, name: string, where: 'Online' | 'OnPremises') =>
  fx.db.kysely.updateTable('users').set({ mailbox_location: where }).where('upn', '=', fx.upn(name)).execute();

const RICH = ['ben', 'dan', 'fay', EXTERNAL.xena, EXTERNAL.yuri, 'partner@example.net'];

/**
 * amy's exported calendar: future, past, copied-block and attendee-rich meetings, a weekly series with a moved
 * occurrence, one meeting ben organized, and one already carrying amy's current block. amy's mailbox is
 * on-premises and her block is stale (retargeted) when it is exported.
 */
async function exportedCalendar(fx: MigrationFixture): Promise<string> {
  const series = await fx.addInIcs({ uid: 'weekly@contoso.com', subject: 'Weekly 1:1', start: Date.UTC(2025, 1, 17, 10), rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=8', meetingId: 'WKL23456', attendees: ['ben', EXTERNAL.xena] });
  const moved = editEvents(series, (e) => {
    e.remove('RRULE');
    e.add('RECURRENCE-ID', '20250310T100000Z');
    e.set('DTSTART', '20250311T140000Z');
    e.set('DTEND', '20250311T150000Z');
    e.set('SEQUENCE', '1');
    e.add('ATTENDEE', 'mailto:guest@example.org', { PARTSTAT: 'NEEDS-ACTION' });
  });
  const seriesIcs = series.replace(/END:VCALENDAR\r\n$/, '') + moved.slice(moved.indexOf('BEGIN:VEVENT'));
  for (const ics of [
    await fx.addInIcs({ uid: 'future@contoso.com', subject: 'Future', start: march(12) }),
    await fx.addInIcs({ uid: 'past@contoso.com', subject: 'Past', start: march(1) }),
    await fx.addInIcs({ uid: 'pasted@contoso.com', subject: 'Pasted', start: march(13), metadata: false }),
    await fx.addInIcs({ uid: 'rich@contoso.com', subject: 'Rich', start: march(14), attendees: RICH }),
    seriesIcs,
    await fx.addInIcs({ uid: 'bens@contoso.com', subject: 'Ben\'s', start: march(15), organizer: 'ben', attendees: ['amy', EXTERNAL.xena] }),
  ]) await fx.importInto(['amy'], ics);
  await setMailbox(fx, 'amy', 'OnPremises');
  await fx.retarget();
  await fx.importInto(['amy'], await fx.addInIcs({ uid: 'current@contoso.com', subject: 'Current', start: march(16) }));
  return exportCalendar(fx.db, fx.tenant.id, fx.upn('amy'), () => fx.clock.now);
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mms-tool-'));
}

const objectsOf = (ics: string) => new Map(splitCalendar(ics).objects.map((o) => [o.uid, o.ics]));

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Invoke-MmsMeetingMigrationTool`, { skip: t.skip }, () => {
    it('rewrites an on-premises organizer\'s exported calendar exactly as the engine rewrites the same objects, keeps every other object byte for byte, and writes the engine\'s iTIP texts as RFC 6047 .eml files', () =>
      withMigrationFixture(t, async (fx) => {
        const exported = await exportedCalendar(fx);
        // The audit of the retarget says the mailbox is out of reach and names the tool.
        const audit = (await fx.audit('amy')).at(-1);
        assert.match(audit?.Reason ?? '', /on-premises, out of MMS's reach; use manual migration \(Invoke-MmsMeetingMigrationTool -Identity amy@contoso\.com /);
        // Start-CsExMeetingMigration refuses her, naming the tool.
        const refused = await mms(fx, 'Start-CsExMeetingMigration', '-Identity', fx.upn('amy'));
        assert.equal(refused.code, 1);
        assert.match(refused.err, /on-premises, out of MMS's reach: use manual migration \(Invoke-MmsMeetingMigrationTool -Identity amy@contoso\.com /);
        const dir = tempDir();
        const input = path.join(dir, 'amy.ics');
        const output = path.join(dir, 'amy-migrated.ics');
        const mails = path.join(dir, 'updates');
        fs.writeFileSync(input, exported);
        const before = await fx.snapshot();

        const run = await mms(fx, 'Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', output, '-MessagesPath', mails, '--json');
        assert.equal(run.err, '');
        assert.equal(run.code, 0);
        const rows = JSON.parse(run.out) as Array<Record<string, unknown>>;
        assert.ok(!rows.some((r) => r['Action'] === 'Warning'), 'a plain export keeps its layout');
        assert.deepEqual(rows.map((r) => [r['Uid'], r['Action'], String(r['Reason']).split(':')[0]]).sort(), [
          ['weekly@contoso.com', 'Updated', 'BlockReplaced'],
          ['past@contoso.com', 'Skipped', 'PastMeeting'],
          ['future@contoso.com', 'Updated', 'BlockReplaced'],
          ['pasted@contoso.com', 'Skipped', 'CopiedBlock'],
          ['rich@contoso.com', 'Updated', 'BlockReplaced'],
          ['current@contoso.com', 'UpToDate', 'the block is already current; not rewritten, nobody notified'],
        ].sort());
        // Nothing in the database changed but one audit row saying the tool ran, with its counts.
        const after = await fx.snapshot();
        assert.deepEqual({ ...after, audit_log: after['audit_log']!.slice(0, -1) }, before);
        const toolAudit = after['audit_log']!.at(-1) as Record<string, unknown>;
        assert.equal(toolAudit['cmdlet'], 'Invoke-MmsMeetingMigrationTool');
        assert.match(String(toolAudit['reason']), /: 3 updated, 1 up to date, 2 skipped, 11 messages written$/);
        assert.equal(fs.readFileSync(input, 'utf8'), exported, 'the input file is only read');

        // The online twin: the same objects migrated by the engine in the built-in store, on the same clock.
        await setMailbox(fx, 'amy', 'Online');
        const request = await fx.migrate();
        const history = await fx.history(request.correlationId);
        assert.deepEqual(
          history.map((h) => [h.Uid, h.Action, h.Reason, h.AttendeesNotified]).sort(),
          rows.map((r) => [r['Uid'], r['Action'], r['Reason'], r['AttendeesNotified']]).sort(),
        );
        const written = fs.readFileSync(output, 'utf8');
        const inputObjects = objectsOf(exported);
        const outputObjects = objectsOf(written);
        assert.deepEqual([...outputObjects.keys()], [...inputObjects.keys()]);
        const updated = new Set(rows.filter((r) => r['Action'] === 'Updated').map((r) => r['Uid'] as string));
        for (const [uid, ics] of outputObjects) {
          if (updated.has(uid)) {
            assert.notEqual(ics, inputObjects.get(uid));
            assert.equal(ics, (await fx.get('amy', uid)).ics, `${uid}: the tool wrote what the engine wrote`);
          } else {
            assert.equal(ics, inputObjects.get(uid), `${uid} comes out byte for byte`);
          }
        }
        // The file around the objects is the input's: only the updated objects' lines differ.
        let expected = exported;
        for (const uid of updated) expected = expected.replace(inputObjects.get(uid)!.slice(inputObjects.get(uid)!.indexOf('BEGIN:VEVENT'), inputObjects.get(uid)!.lastIndexOf('END:VCALENDAR')), outputObjects.get(uid)!.slice(outputObjects.get(uid)!.indexOf('BEGIN:VEVENT'), outputObjects.get(uid)!.lastIndexOf('END:VCALENDAR')));
        assert.equal(written, expected);

        // One .eml per (updated meeting, attendee): internal attendees too, since the tool updates nobody's copy.
        const files = fs.readdirSync(mails).sort();
        assert.equal(files.length, 11); // Future: ben, xena; Rich: six; the series: ben, xena and the guest of its moved occurrence
        const engineTexts = await fx.notifications(request.correlationId);
        const seen: string[] = [];
        for (const file of files) {
          const raw = fs.readFileSync(path.join(mails, file));
          const mail = await simpleParser(raw);
          const calendar = mail.attachments.find((a) => a.contentType === 'text/calendar');
          assert.ok(calendar, `${file}: a text/calendar part`);
          const text = calendar.content.toString('utf8');
          assert.match(raw.toString('utf8'), /Content-Type: text\/calendar; method=REQUEST; charset=UTF-8/);
          assert.equal(mail.from?.text, 'amy@contoso.com');
          assert.equal(mail.headers.get('sender') && (mail.headers.get('sender') as { text: string }).text, 'mms@contoso.com');
          const to = (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.text ?? '';
          assert.match(mail.messageId ?? '', /@contoso\.com>$/);
          const engine = engineTexts.find((n) => n.recipient === to && !n.internal && n.ics !== null && text === n.ics);
          const internal = engineTexts.find((n) => n.recipient === to && n.internal);
          assert.ok(engine || internal, `${file}: to ${to}, either the engine's iTIP text for that external attendee or an internal attendee the engine updated in place`);
          assert.match(mail.text ?? '', /The online meeting information of this meeting has changed/);
          seen.push(text);
        }
        assertValidItip(seen, '.eml calendar part');
        fs.rmSync(dir, { recursive: true, force: true });
      }));

    it('-WhatIf shows each meeting with its block diff and writes no file and nothing in the database', () =>
      withMigrationFixture(t, async (fx) => {
        const dir = tempDir();
        const input = path.join(dir, 'amy.ics');
        fs.writeFileSync(input, await exportedCalendar(fx));
        const before = await fx.snapshot();
        const run = await mms(fx, 'Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', path.join(dir, 'out.ics'), '-MessagesPath', path.join(dir, 'mail'), '-WhatIf', '--json');
        assert.equal(run.err, '');
        assert.equal(run.code, 0);
        const rows = JSON.parse(run.out) as Array<Record<string, string>>;
        const future = rows.find((r) => r['Uid'] === 'future@contoso.com');
        assert.equal(future?.['Action'], 'WouldUpdate');
        assert.match(future?.['Diff'] ?? '', /^\+ Conference ID: 4242424$/m);
        assert.deepEqual(fs.readdirSync(dir), ['amy.ics']);
        assert.deepEqual(await fx.snapshot(), before);
        fs.rmSync(dir, { recursive: true, force: true });
      }));

    it('objects the splitter cannot take (no DTSTART, no UID), an unused VTIMEZONE and lines outside VCALENDAR pass through byte for byte, each unparseable one on a Skipped line saying why; only the updated meetings change', () =>
      withMigrationFixture(t, async (fx) => {
        const dir = tempDir();
        const exported = await exportedCalendar(fx);
        const organizer = `ORGANIZER:mailto:${fx.upn('amy')}\r\n`;
        const noStart = `BEGIN:VEVENT\r\nUID:broken@contoso.com\r\nDTSTAMP:20250301T090000Z\r\n${organizer}SUMMARY:No start\r\nDESCRIPTION:kept as it is 🙂\r\nEND:VEVENT\r\n`;
        const noUid = `BEGIN:VEVENT\r\nDTSTAMP:20250301T090000Z\r\nDTSTART:20250320T100000Z\r\n${organizer}SUMMARY:No UID\r\nEND:VEVENT\r\n`;
        const unused = 'BEGIN:VTIMEZONE\r\nTZID:Unused/Zone\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n';
        const first = exported.indexOf('BEGIN:VEVENT');
        const second = exported.indexOf('BEGIN:VEVENT', exported.indexOf('END:VEVENT') );
        const input = path.join(dir, 'amy.ics');
        const text = exported.slice(0, first) + unused + exported.slice(first, second) + noStart + exported.slice(second).replace(/END:VCALENDAR\r\n$/, `${noUid}END:VCALENDAR\r\n`) + 'a line after the calendar\r\n';
        fs.writeFileSync(input, text);
        const output = path.join(dir, 'out.ics');
        const run = await mms(fx, 'Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', output, '--json');
        assert.equal(run.code, 0, run.err);
        const rows = JSON.parse(run.out) as Array<Record<string, string>>;
        assert.deepEqual(rows.filter((r) => r['Action'] === 'Warning'), [], 'the layout is kept');
        const skipped = rows.filter((r) => r['Reason']?.startsWith('Unparseable'));
        assert.deepEqual(skipped.map((r) => [r['Uid'], r['Action']]).sort(), [['', 'Skipped'], ['', 'Skipped'], ['broken@contoso.com', 'Skipped']]);
        assert.ok(skipped.some((r) => /^Unparseable: .*has no DTSTART.*; written to the output file unchanged$/.test(r['Reason'] ?? '')), JSON.stringify(skipped));
        assert.ok(skipped.some((r) => /^Unparseable: .*has no UID.*; written to the output file unchanged$/.test(r['Reason'] ?? '')), JSON.stringify(skipped));
        assert.ok(skipped.some((r) => /^Unparseable: .*a line after the calendar.*; written to the output file unchanged$/.test(r['Reason'] ?? '')), JSON.stringify(skipped));
        // The output is the input with only the updated meetings' components changed.
        const written = fs.readFileSync(output, 'utf8');
        const inputObjects = objectsOf(text);
        const outputObjects = objectsOf(written);
        const updated = rows.filter((r) => r['Action'] === 'Updated').map((r) => r['Uid'] as string);
        assert.equal(updated.length, 3);
        let expected = text;
        const vevents = (ics: string) => ics.slice(ics.indexOf('BEGIN:VEVENT'), ics.lastIndexOf('END:VCALENDAR'));
        for (const uid of updated) expected = expected.replace(vevents(inputObjects.get(uid)!), vevents(outputObjects.get(uid)!));
        assert.equal(written, expected);
        for (const piece of [noStart, noUid, unused, 'a line after the calendar\r\n']) assert.ok(written.includes(piece), `passes through: ${piece.slice(0, 40)}`);
        fs.rmSync(dir, { recursive: true, force: true });
      }));

    it('a missing input file, an output in a missing folder, the output being the input, a file as -MessagesPath and an unknown user each exit 2 with one line', () =>
      withMigrationFixture(t, async (fx) => {
        const dir = tempDir();
        const input = path.join(dir, 'amy.ics');
        fs.writeFileSync(input, await exportedCalendar(fx));
        const out = path.join(dir, 'out.ics');
        const cases: Array<[string[], RegExp]> = [
          [['-Identity', fx.upn('amy'), '-InputPath', path.join(dir, 'nope.ics'), '-OutputPath', out], /-InputPath .*nope\.ics does not exist/],
          [['-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', path.join(dir, 'missing', 'out.ics')], /-OutputPath .* is in a folder that does not exist/],
          [['-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', input], /-OutputPath is the input file/],
          [['-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', path.join(dir, '.', 'amy.ics')], /-OutputPath is the input file/],
          [['-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', out, '-MessagesPath', input], /-MessagesPath .* is a file; give a folder/],
          [['-Identity', 'nobody@contoso.com', '-InputPath', input, '-OutputPath', out], /nobody@contoso\.com/],
        ];
        const before = await fx.snapshot();
        for (const [args, message] of cases) {
          const r = await mms(fx, 'Invoke-MmsMeetingMigrationTool', ...args);
          assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
          assert.equal(r.out, '');
          assert.equal(r.err.split('\n').length, 2, `one line: ${r.err}`);
          assert.match(r.err, message);
        }
        assert.deepEqual(fs.readdirSync(dir), ['amy.ics']);
        assert.deepEqual(await fx.snapshot(), before);
        fs.rmSync(dir, { recursive: true, force: true });
      }));

    it('mms help Invoke-MmsMeetingMigrationTool shows its syntax and an example', () =>
      withMigrationFixture(t, async (fx) => {
        const r = await mms(fx, 'help', 'Invoke-MmsMeetingMigrationTool');
        assert.equal(r.code, 0);
        assert.match(r.out, /SYNTAX\n {2}mms Invoke-MmsMeetingMigrationTool/);
        assert.match(r.out, /EXAMPLES\n {2}npx mms Invoke-MmsMeetingMigrationTool -Identity \S+ -InputPath \S+ -OutputPath \S+ -MessagesPath/);
        assert.match(r.out, /dial-in text of a third-party provider the user was on before \(ThirdPartyBlockReplaced\)/);
        assert.match(r.out, /objects the tool cannot parse included \(each listed as Skipped with the reason\)/);
      }));
  });
}
