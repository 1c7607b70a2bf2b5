// Issue 8 §5: the manual tool run directly against a mailbox on a CalDAV server (-CalDavUrl -UserName
// -PasswordFile), through the real `mms` entry, on both databases, against Radicale: the meetings are rewritten in
// place, nobody's copy is touched, one .eml per attendee is written for the admin (Radicale does not schedule), a
// second run finds everything up to date, and mistakes are one line with the fix.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { caldavFixture } from './helpers/caldav-fixture.js';
import { RADICALE_SKIP } from './helpers/radicale.js';
import { blockIn, eventOf, expectedBlock, march } from './helpers/migration-fixture.js';
import { assertValidItip } from './helpers/libical.js';

for (const t of TEST_DATABASES) {
  describe(`${t.name}: Invoke-MmsMeetingMigrationTool -CalDavUrl (Radicale)`, { skip: t.skip ?? RADICALE_SKIP }, () => {
    it('rewrites the organizer\'s meetings in place, writes the messages to send, touches no copy; again: up to date', async () => {
      const c = await caldavFixture(t);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-tool-dav-'));
      try {
        const { fx } = c;
        const uid = await c.meeting({ subject: 'Review', start: march(10), uid: 'review@contoso.com', meetingId: 'RVW23456' });
        const benBefore = await c.object('ben', uid);
        await fx.retarget();
        const pw = path.join(dir, 'amy.pw');
        fs.writeFileSync(pw, `${c.radicale.users.find((u) => u.name === 'amy')?.password}\n`, { mode: 0o600 });
        const mms = (...argv: string[]) => runMms({ MMS_DATABASE_URL: fx.url, MMS_ACTOR: 'admin@contoso.com' }, () => fx.clock.now, argv);
        const tool = (...extra: string[]) => mms('Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-CalDavUrl', c.calendar('amy'), '-UserName', 'amy', '-PasswordFile', pw, ...extra, '--json');

        const preview = await tool('-WhatIf');
        assert.equal(preview.code, 0, preview.err);
        assert.deepEqual((JSON.parse(preview.out) as any[]).map((r) => [r.Uid, r.Action]), [[uid, 'WouldUpdate']]);
        assert.match((await c.object('amy', uid))?.ics ?? '', /Seattle/, '-WhatIf writes nothing');

        const run = await tool('-MessagesPath', path.join(dir, 'out'));
        assert.equal(run.code, 0, run.err);
        const rows = JSON.parse(run.out) as any[];
        assert.deepEqual(rows.map((r) => [r.Uid, r.Action, r.AttendeesNotified]), [[uid, 'Updated', 4]]);
        const e = eventOf(((await c.object('amy', uid))?.ics ?? '').replace(/%2C/g, ','));
        assert.equal(blockIn(e.get('DESCRIPTION')), expectedBlock('https://meet.contoso.com/amy/RVW23456'));
        assert.deepEqual(await c.object('ben', uid), benBefore, 'the tool updates nobody\'s copy: they are told by mail');
        const files = fs.readdirSync(path.join(dir, 'out')).sort();
        assert.equal(files.length, 4, files.join(', '));
        const calendars: string[] = [];
        for (const f of files) {
          const mail = await simpleParser(fs.readFileSync(path.join(dir, 'out', f)));
          const part = mail.attachments.find((a) => a.contentType.startsWith('text/calendar'));
          assert.ok(part, `${f} has a text/calendar part`);
          calendars.push(part.content.toString('utf8'));
        }
        assertValidItip(calendars, 'iTIP written by the tool in -CalDavUrl mode');

        const again = await tool('-MessagesPath', path.join(dir, 'again'));
        assert.equal(again.code, 0, again.err);
        assert.deepEqual((JSON.parse(again.out) as any[]).map((r) => r.Action), ['UpToDate']);
        assert.deepEqual(fs.existsSync(path.join(dir, 'again')) ? fs.readdirSync(path.join(dir, 'again')) : [], []);

        const wrong = path.join(dir, 'wrong.pw');
        fs.writeFileSync(wrong, 'not-her-password\n');
        const refused = await mms('Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-CalDavUrl', c.calendar('amy'), '-UserName', 'amy', '-PasswordFile', wrong);
        assert.equal(refused.code, 1);
        assert.match(refused.err.trim(), /^[^\n]*401 Unauthorized: the user name or password is wrong[^\n]*$/);
        const half = await mms('Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-CalDavUrl', c.calendar('amy'));
        assert.equal(half.code, 2);
        assert.match(half.err, /-CalDavUrl needs -UserName and -PasswordFile/);
        const both = await mms('Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-CalDavUrl', c.calendar('amy'), '-UserName', 'amy', '-PasswordFile', pw, '-InputPath', pw);
        assert.equal(both.code, 2);
        assert.match(both.err, /either -CalDavUrl or -InputPath\/-OutputPath, not both/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        await c.dispose();
      }
    });
  });
}
