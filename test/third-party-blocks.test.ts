// A user who was on a third-party audio-conferencing provider (Set-CsUserAcp) and was then switched to ours
// (Enable-CsOnlineDialInConferencingUser -ReplaceProvider): invitations written meanwhile carry the provider's own
// dial-in text, not a block. The provider's numbers and passcode stay in the audit trail; the manual tool and
// planMeeting (given loadFormerProviders' answer) recognise the lines carrying them and put the block there,
// keeping every other byte, and keep the old text for undo. Text that does not carry the passcode and a number
// is never touched.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { runMms } from './helpers/cli-run.js';
import { TEST_DATABASES } from './helpers/databases.js';
import { ACTOR } from './helpers/directory-fixture.js';
import { blockIn, EXTERNAL, HOUR, march, withMigrationFixture, withPartstat, eventOf, type MigrationFixture } from './helpers/migration-fixture.js';
import { assertValidItip, judgeItip, LIBICAL_PROBLEM } from './helpers/libical.js';
import { enableDialIn, setUserAcp } from '../src/directory/index.js';
import { locateHtmlBlock, locateProviderHtml, locateProviderText, replaceRange, type FormerProvider } from '../src/domain/meeting-block/index.js';
import { MEETING_ID_PROPERTY } from '../src/domain/online-meeting.js';
import { buildEvent, splitCalendar } from '../src/ical/index.js';
import { exportCalendar } from '../src/meetings/index.js';
import { restoreMeeting, undoMigration } from '../src/migration/index.js';
import { loadFormerProviders } from '../src/migration/former-providers.js';
import { loadScope, planContext } from '../src/migration/migrate-user.js';
import { planMeeting } from '../src/migration/plan-meeting.js';

const INTERCALL = { name: 'Intercall', tollNumber: '+1 425 555 0100', tollFreeNumber: '+1 800 555 0199', participantPasscode: '8675309', url: 'https://acp.example.com/local-numbers' };
const FORMER: FormerProvider = { name: 'Intercall', numbers: ['+14255550100', '+18005550199'], participantPasscode: '8675309', url: 'https://acp.example.com/local-numbers' };

const BEFORE = 'Hello team,\nplease read the deck before we meet. Ünïcödé, 日本語, עברית 🙂\n\n';
const PROVIDER_TEXT = 'Intercall audio conference\nToll: +1 (425) 555-0100\nToll-free: 1-800-555-0199\nParticipant passcode: 867 5309\nLocal numbers: https://acp.example.com/local-numbers';
const AFTER = '\n\nThanks, Amy\n';
const HTML_BEFORE = '<html><body><div>Hello team,<br>please read the deck before we meet. Ünïcödé, 日本語, עברית 🙂</div>\n';
const PROVIDER_HTML = '<div><b>Intercall audio conference</b><br>Toll: +1&nbsp;(425)&nbsp;555-0100<br>Toll-free: 1-800-555-0199<br>Participant passcode: 8675309<br><a href="https://acp.example.com/local-numbers">Local numbers</a></div>';
const HTML_AFTER = '\n<div>Thanks, Amy</div></body></html>';

const mms = (fx: MigrationFixture, ...argv: string[]) =>
  runMms({ MMS_DATABASE_URL: fx.url, MMS_ACTOR: ACTOR, MMS_SERVICE_ADDRESS: 'mms@contoso.com' }, () => fx.clock.now, argv);

/** A meeting amy scheduled with the provider's plug-in: no online meeting metadata, the provider's text in both bodies. */
function providerMeeting(fx: MigrationFixture, uid: string, start: number, o: { description: string; html?: string; location?: string; tel?: boolean; xProps?: Record<string, string> }): string {
  return buildEvent({
    uid, summary: uid.split('@')[0] ?? uid, start, end: start + HOUR,
    organizer: { address: fx.upn('amy') }, attendees: [{ address: fx.upn('ben') }, { address: EXTERNAL.xena }],
    description: o.description, htmlDescription: o.html, location: o.location,
    conferences: o.tel ? [{ uri: 'tel:+14255550100,,8675309%23', features: ['PHONE'], label: 'Intercall' }] : undefined,
    xProps: o.xProps, dtstamp: fx.clock.now,
  });
}

/** amy on Intercall writes her meetings, then is switched to ours with -ReplaceProvider; returns her exported calendar. */
async function formerProviderCalendar(fx: MigrationFixture): Promise<string> {
  await setUserAcp(fx.ctx, fx.tenant.id, fx.upn('amy'), INTERCALL);
  const meetings = [
    // Text body, HTML body, LOCATION and CONFERENCE all carry the provider.
    providerMeeting(fx, 'plugin@contoso.com', march(12), {
      description: BEFORE + PROVIDER_TEXT + AFTER, html: HTML_BEFORE + PROVIDER_HTML + HTML_AFTER,
      location: 'Intercall +1 425 555 0100, passcode 8675309', tel: true,
    }),
    // An Exchange online meeting whose body holds the provider's lines instead of a block.
    providerMeeting(fx, 'skype@contoso.com', march(13), {
      description: 'Agenda: budget\n\nDial-in numbers:\n+14255550100\n+18005550199\nPasscode: 8675309#\n\nSee you',
      location: 'https://meet.contoso.com/amy/K7Q2X9ZP',
      xProps: { 'X-MICROSOFT-SKYPETEAMSMEETINGURL': 'https://meet.contoso.com/amy/K7Q2X9ZP' },
    }),
    // The number without the passcode, and the two in paragraphs apart: not the provider's block.
    providerMeeting(fx, 'numberonly@contoso.com', march(14), { description: 'If the video fails call me on +1 (425) 555-0100.\nThanks' }),
    providerMeeting(fx, 'apart@contoso.com', march(15), { description: 'Budget: 8675309 USD\n\nWe talked about it.\n\nCall +1 425 555 0100 with questions' }),
  ];
  for (const ics of meetings) await fx.importInto(['amy'], ics);
  fx.clock.advance(HOUR);
  const [r] = await enableDialIn(fx.ctx, fx.tenant.id, [fx.upn('amy')], true);
  assert.equal(r?.status, 'Done', JSON.stringify(r));
  return exportCalendar(fx.db, fx.tenant.id, fx.upn('amy'), () => fx.clock.now);
}

const objectsOf = (ics: string) => new Map(splitCalendar(ics).objects.map((o) => [o.uid, o.ics]));

describe('former provider text: recognition', () => {
  it('finds the run carrying the passcode and a number in any common formatting, first line to last, in text and HTML', () => {
    const text = BEFORE + PROVIDER_TEXT + AFTER;
    const run = locateProviderText(text, [FORMER]);
    assert.equal(run && text.slice(run.range.start, run.range.end), PROVIDER_TEXT);
    for (const [toll, code] of [['+1 425-555-0100', '8675309'], ['(425) 555 0100', '867-5309'], ['001 425 555 0100', '8675309#'], ['425.555.0100', '8675309']]) {
      const body = `Hi\n\nDial ${toll}\nCode ${code}\n\nBye`;
      const r = locateProviderText(body, [FORMER]);
      assert.equal(r && body.slice(r.range.start, r.range.end), `Dial ${toll}\nCode ${code}`, `${toll} / ${code}`);
    }
    const crlf = `Notes\r\n\r\n${PROVIDER_TEXT.replace(/\n/g, '\r\n')}\r\n\r\nBye`;
    const c = locateProviderText(crlf, [FORMER]);
    assert.ok(c);
    assert.equal(replaceRange(crlf, c.range, 'NEW\nBLOCK'), 'Notes\r\n\r\nNEW\r\nBLOCK\r\n\r\nBye', 'the block takes the body\'s CRLF line ends');
    const html = HTML_BEFORE + PROVIDER_HTML + HTML_AFTER;
    const h = locateProviderHtml(html, [FORMER]);
    assert.equal(h && html.slice(h.range.start, h.range.end), PROVIDER_HTML);
  });

  it('leaves text alone that lacks the passcode or every number, holds them in paragraphs apart, or only looks alike', () => {
    for (const body of [
      'Call me on +1 (425) 555-0100 if the video fails',
      'Participant passcode: 8675309',
      'Budget: 8675309 USD\n\nWe talked about it.\n\nCall +1 425 555 0100 with questions',
      'Toll: +1 425 555 0199\nParticipant passcode: 8675309', // another number
      'Toll: 555-0100\nParticipant passcode: 8675309', // too short to be the number
      'Toll: +1 425 555 0100\nParticipant passcode: 86753091', // another code
    ]) assert.equal(locateProviderText(body, [FORMER]), null, body);
    assert.equal(locateProviderHtml('<p>Call +1 425 555 0100</p><p></p><p>We talked about it.</p><p></p><p>Budget: 8675309 USD</p>', [FORMER]), null);
    assert.equal(locateProviderHtml('<p>Call +1 425 555 0100 today</p>', [FORMER]), null);
  });
});

for (const t of TEST_DATABASES) {
  describe(`${t.name}: meetings written on a former third-party provider`, { skip: t.skip }, () => {
    it('the manual tool replaces exactly the provider\'s lines (text and HTML), its LOCATION and tel: entry by the block, keeps every other byte and object, and says ThirdPartyBlockReplaced', () =>
      withMigrationFixture(t, async (fx) => {
        const exported = await formerProviderCalendar(fx);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-acp-'));
        const input = path.join(dir, 'amy.ics');
        const output = path.join(dir, 'amy-migrated.ics');
        const mails = path.join(dir, 'updates');
        fs.writeFileSync(input, exported);
        const run = await mms(fx, 'Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', output, '-MessagesPath', mails, '--json');
        assert.equal(run.err, '');
        assert.equal(run.code, 0);
        const rows = JSON.parse(run.out) as Array<Record<string, string>>;
        assert.deepEqual(rows.map((r) => [r['Uid'], r['Action']]).sort(), [['plugin@contoso.com', 'Updated'], ['skype@contoso.com', 'Updated']]);
        for (const r of rows) assert.match(r['Reason'] ?? '', /^BlockReplaced; ThirdPartyBlockReplaced: the dial-in text of the former provider Intercall /);

        const written = fs.readFileSync(output, 'utf8');
        const inObjects = objectsOf(exported);
        const outObjects = objectsOf(written);
        assert.equal(outObjects.get('numberonly@contoso.com'), inObjects.get('numberonly@contoso.com'));
        assert.equal(outObjects.get('apart@contoso.com'), inObjects.get('apart@contoso.com'));

        const amy = await fx.user('amy');
        const plugin = eventOf(outObjects.get('plugin@contoso.com')!);
        const description = plugin.get('DESCRIPTION')!;
        const block = blockIn(description);
        assert.equal(description, BEFORE + block + AFTER, 'only the provider\'s lines changed');
        assert.match(block, new RegExp(`Conference ID: ${amy.conferenceId}`));
        assert.doesNotMatch(block, /8675309|Intercall/);
        const html = plugin.get('X-ALT-DESC')!;
        const htmlBlock = locateHtmlBlock(html);
        assert.ok(htmlBlock);
        assert.equal(html, HTML_BEFORE + html.slice(htmlBlock.start, htmlBlock.end) + HTML_AFTER);
        assert.match(html.slice(htmlBlock.start, htmlBlock.end), /^<div id="mms-online-meeting"/);
        const joinUrl = block.split('\n')[2]!;
        assert.equal(plugin.get('LOCATION'), joinUrl);
        assert.ok(!plugin.all('CONFERENCE').some((c) => c.value.includes('8675309')), 'the provider\'s tel: entry is gone');
        assert.ok(plugin.all('CONFERENCE').some((c) => c.value === joinUrl));
        assert.equal(plugin.get(MEETING_ID_PROPERTY), 'plugin@contoso.com', 'the meeting is now tied to the block\'s online meeting');

        const skype = eventOf(outObjects.get('skype@contoso.com')!);
        const skypeBlock = blockIn(skype.get('DESCRIPTION'));
        assert.equal(skype.get('DESCRIPTION'), `Agenda: budget\n\n${skypeBlock}\n\nSee you`, 'the dial-in label goes with the provider\'s lines');
        assert.equal(skype.get('LOCATION'), skype.get('X-MICROSOFT-SKYPETEAMSMEETINGURL'));

        // The file is the input but for the two updated meetings; libical and python-icalendar read it without an error.
        let expected = exported;
        const vevents = (ics: string) => ics.slice(ics.indexOf('BEGIN:VEVENT'), ics.lastIndexOf('END:VCALENDAR'));
        for (const uid of ['plugin@contoso.com', 'skype@contoso.com']) expected = expected.replace(vevents(inObjects.get(uid)!), vevents(outObjects.get(uid)!));
        assert.equal(written, expected);
        if (!LIBICAL_PROBLEM) assert.deepEqual(judgeItip([written])[0]?.errors, [], 'the rewritten file is valid iCalendar');
        const parts: string[] = [];
        for (const file of fs.readdirSync(mails)) {
          const mail = await simpleParser(fs.readFileSync(path.join(mails, file)));
          const calendar = mail.attachments.find((a) => a.contentType === 'text/calendar');
          assert.ok(calendar, file);
          parts.push(calendar.content.toString('utf8'));
        }
        assert.equal(parts.length, 4); // ben and xena, for each of the two meetings
        assertValidItip(parts, '.eml calendar part');

        // Run again on the output: both are up to date now, nothing is rewritten.
        fs.writeFileSync(input, written);
        const again = await mms(fx, 'Invoke-MmsMeetingMigrationTool', '-Identity', fx.upn('amy'), '-InputPath', input, '-OutputPath', path.join(dir, 'again.ics'), '--json');
        assert.deepEqual((JSON.parse(again.out) as Array<Record<string, string>>).map((r) => [r['Uid'], r['Action']]).sort(), [['plugin@contoso.com', 'UpToDate'], ['skype@contoso.com', 'UpToDate']]);
        fs.rmSync(dir, { recursive: true, force: true });
      }));

    it('planMeeting with loadFormerProviders\' context gives the engine the same rewrite and undo data that puts the provider\'s text back', () =>
      withMigrationFixture(t, async (fx) => {
        await formerProviderCalendar(fx);
        const amy = await fx.user('amy');
        const former = await loadFormerProviders(fx.db, amy);
        assert.deepEqual(former, [FORMER]);
        const objects = await Promise.all(['plugin@contoso.com', 'skype@contoso.com', 'numberonly@contoso.com', 'apart@contoso.com'].map((uid) => fx.get('amy', uid)));
        const scope = await loadScope(fx.db, fx.tenant.id, amy.id, objects);
        const now = fx.clock.now;
        // Without the context nothing is recognised: the meetings are not ours (no metadata) or have no block.
        const without = objects.map((o) => planMeeting(o, { ...planContext(scope), now }));
        assert.deepEqual(without.map((p) => p && (p.action === 'Skipped' ? p.reason : p.action)), [null, 'BlockNotFound', null, null]);
        const plans = objects.map((o) => planMeeting(o, { ...planContext(scope), now, formerProviderBlocks: former }));
        assert.deepEqual(plans.map((p) => p?.action ?? null), ['Update', 'Update', null, null]);
        const plan = plans[0]!;
        assert.ok(plan.action === 'Update');
        assert.equal(plan.oldBlock, PROVIDER_TEXT);
        assert.equal(plan.newBlock, blockIn(eventOf(plan.ics).get('DESCRIPTION')));
        assert.match(plan.note ?? '', /^ThirdPartyBlockReplaced: /);
        // Undo data: what the provider had in each property.
        const original = eventOf(objects[0]!.ics);
        assert.deepEqual(plan.previous.map((p) => [p.recurrenceId, p.text, p.html, p.location]), [[null, PROVIDER_TEXT, PROVIDER_HTML, 'Intercall +1 425 555 0100, passcode 8675309']]);
        const back = eventOf(restoreMeeting(plan.ics, plan.previous));
        for (const name of ['DESCRIPTION', 'X-ALT-DESC', 'LOCATION']) assert.equal(back.get(name), original.get(name), name);
        assert.deepEqual(back.all('CONFERENCE'), original.all('CONFERENCE'));

        // Once the user is back on a third-party provider, that provider's text is theirs again: not former.
        await setUserAcp(fx.ctx, fx.tenant.id, fx.upn('amy'), INTERCALL);
        assert.deepEqual(await loadFormerProviders(fx.db, await fx.user('amy')), []);
      }));

    it('the former providers are the user\'s own, every one they were on, newest first', () =>
      withMigrationFixture(t, async (fx) => {
        await setUserAcp(fx.ctx, fx.tenant.id, fx.upn('amy'), INTERCALL);
        await setUserAcp(fx.ctx, fx.tenant.id, fx.upn('amy'), { name: 'PGi', tollNumber: '+1 646 555 0199', participantPasscode: '1111222' });
        assert.deepEqual(await loadFormerProviders(fx.db, await fx.user('amy')), [FORMER], 'PGi is the one she is on');
        await enableDialIn(fx.ctx, fx.tenant.id, [fx.upn('amy')], true);
        assert.deepEqual(await loadFormerProviders(fx.db, await fx.user('amy')), [
          { name: 'PGi', numbers: ['+16465550199'], participantPasscode: '1111222', url: null },
          FORMER,
        ]);
        assert.deepEqual(await loadFormerProviders(fx.db, await fx.user('ben')), []);
      }));
    it('the engine migrates the same meetings in the mailbox, and undo puts the provider\'s text back', () =>
      withMigrationFixture(t, async (fx) => {
        await formerProviderCalendar(fx);
        const originals = new Map(await Promise.all(['plugin@contoso.com', 'skype@contoso.com'].map(async (uid) => [uid, (await fx.get('amy', uid)).ics] as const)));
        const request = await fx.migrate();
        const history = await fx.history(request.correlationId);
        assert.deepEqual(history.map((h) => [h.Uid, h.Action, h.Reason.split(':')[0]]).sort(), [
          ['plugin@contoso.com', 'Updated', 'BlockReplaced; ThirdPartyBlockReplaced'],
          ['skype@contoso.com', 'Updated', 'BlockReplaced; ThirdPartyBlockReplaced'],
        ]);
        const plugin = eventOf((await fx.get('amy', 'plugin@contoso.com')).ics);
        assert.equal(plugin.get('DESCRIPTION'), BEFORE + blockIn(plugin.get('DESCRIPTION')) + AFTER);
        assert.equal(eventOf((await fx.get('ben', 'plugin@contoso.com')).ics).get('DESCRIPTION'), plugin.get('DESCRIPTION'), 'ben\'s copy');
        assertValidItip(await fx.messages(), 'iMIP message');

        const undo = await undoMigration(fx.db, await fx.currentTenant(), request.correlationId, { actor: ACTOR, now: () => fx.clock.now, force: true });
        assert.ok(undo);
        for (const [uid, ics] of originals) {
          const back = eventOf((await fx.get('amy', uid)).ics);
          for (const name of ['DESCRIPTION', 'X-ALT-DESC', 'LOCATION']) assert.equal(back.get(name), eventOf(ics).get(name), `${uid} ${name}`);
          assert.deepEqual(back.all('CONFERENCE'), eventOf(ics).all('CONFERENCE'), `${uid} CONFERENCE`);
        }
      }));
    it('an attendee\'s own copy of such a meeting (their answer in it) gets the block in place of the provider\'s text, their answer kept', () =>
      withMigrationFixture(t, async (fx) => {
        await formerProviderCalendar(fx);
        const organizer = (await fx.get('amy', 'plugin@contoso.com')).ics;
        await fx.importInto(['ben'], withPartstat(organizer, fx.upn('ben'), 'ACCEPTED'));
        const request = await fx.migrate();
        assert.equal(request.state, 'Succeeded', request.lastMessage ?? '');
        const amy = eventOf((await fx.get('amy', 'plugin@contoso.com')).ics);
        const ben = eventOf((await fx.get('ben', 'plugin@contoso.com')).ics);
        assert.equal(ben.get('DESCRIPTION'), amy.get('DESCRIPTION'), 'ben\'s copy has the block where the provider\'s lines were');
        assert.doesNotMatch(ben.get('DESCRIPTION') ?? '', /8675309/);
        assert.match((await fx.get('ben', 'plugin@contoso.com')).ics.replace(/\r?\n[ \t]/g, ''), /PARTSTAT=ACCEPTED[^\r\n]*:mailto:ben@contoso\.com/i, 'his answer is kept');
      }));
  });
}
