// Issue 12 §1: meeting types. The renderer writes a Skype for Business block (the block MMS has always written,
// byte for byte) or a Teams block (the Teams heading and join label, a Teams-style join link, the same dial-in) in
// every language it supports; the locators and the parser find and read both again; meetingTypeOf tells them
// apart from the object's own text and metadata — the block's join link, Exchange's X-MICROSOFT-SKYPETEAMSMEETINGURL
// and X-MICROSOFT-ONLINEMEETINGCONFLINK — as Exchange exports them (test/fixtures/ics/exchange).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  SUPPORTED_LANGUAGES, isTeamsJoinUrl, locateHtmlBlock, locateTextBlock, meetingTypeOf, parseBlock, renderBlock, resolveLanguage, teamsJoinUrl, type BlockInput,
} from '../src/domain/meeting-block/index.js';
import { localeFor } from '../src/domain/meeting-block/locales.js';
import { meetingIdOf } from '../src/domain/online-meeting.js';
import { indexObject, splitCalendar } from '../src/ical/index.js';
import { factsOf } from '../src/mailbox/index.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OWNER = 'b0f1c3d2-1a2b-4c5d-8e9f-0a1b2c3d4e5f';
const TEAMS_JOIN = teamsJoinUrl('https://teams.microsoft.com/l/meetup-join', 'K7X2NQ4T', TENANT, OWNER);
const SKYPE_JOIN = 'https://meet.contoso.com/ashaw/K7X2NQ4T';

const input = (language: string, meetingType: 'SfB' | 'Teams'): BlockInput => ({
  language,
  meetingId: 'K7X2NQ4T',
  joinUrl: meetingType === 'Teams' ? TEAMS_JOIN : SKYPE_JOIN,
  dialIn: {
    provider: 'Microsoft',
    providerName: null,
    toll: { number: '+14255550100', label: 'Seattle' },
    tollFree: { number: '+18005550199', label: '' },
    conferenceId: '1234567',
    localNumbersUrl: 'https://meet.contoso.com/dialin',
  },
  sharedNotesUrl: null,
  ...(meetingType === 'Teams' ? { meetingType } : {}),
});

// Text around the block in several scripts: it must be found around it and never read as part of it.
const BEFORE = 'Agenda: Q1 budget — 会議 🎉 שלום e\u0301\n\n';
const AFTER = '\nNotes après la réunion ✅';

describe('the Teams block in every supported language', () => {
  it('Teams' + "' link names a Teams meeting thread, keeps the meeting id, and is what the type recogniser calls Teams", () => {
    assert.equal(TEAMS_JOIN, `https://teams.microsoft.com/l/meetup-join/19%3ameeting_K7X2NQ4T%40thread.v2/0?context=%7b%22Tid%22%3a%22${TENANT}%22%2c%22Oid%22%3a%22${OWNER}%22%7d`);
    assert.equal(meetingIdOf(TEAMS_JOIN), 'K7X2NQ4T', 'a converted meeting keeps its id');
    const custom = teamsJoinUrl('https://teams.contoso.com/join/', 'K7X2NQ4T', TENANT, OWNER);
    assert.ok(custom.startsWith('https://teams.contoso.com/join/19%3ameeting_K7X2NQ4T%40thread.v2/0?'), custom);
    assert.equal(isTeamsJoinUrl(custom), true, 'a tenant\'s own TeamsMeetingUrl still gives a link recognised as Teams');
    assert.equal(isTeamsJoinUrl(SKYPE_JOIN), false);
    assert.equal(isTeamsJoinUrl('https://meet.lync.com/contoso/ashaw/K7X2NQ4T'), false);
  });

  for (const language of SUPPORTED_LANGUAGES) {
    it(`${language}: Teams heading and join label, same dial-in; byte-stable; found and read back in text and HTML`, () => {
      const loc = localeFor(language);
      const teams = renderBlock(input(language, 'Teams'));
      const again = renderBlock(structuredClone(input(language, 'Teams')));
      assert.deepEqual(again, teams, 'the same input renders the same bytes');
      const sfb = renderBlock(input(language, 'SfB'));
      assert.deepEqual(renderBlock({ ...input(language, 'SfB'), meetingType: 'SfB' }), sfb, 'SfB is the default block, byte for byte');

      const lines = teams.text.split('\n');
      assert.deepEqual(lines.slice(1, 4), [loc.teamsHeading, loc.teamsJoinMeeting, TEAMS_JOIN]);
      assert.deepEqual(sfb.text.split('\n').slice(1, 3), [loc.joinMeeting, SKYPE_JOIN], 'the SfB block has no Teams heading');
      // Everything after the join link (the dial-in part) is the same in both blocks.
      assert.deepEqual(lines.slice(4), sfb.text.split('\n').slice(3));
      assert.deepEqual(teams.conferences.slice(1), sfb.conferences.slice(1), 'the same dial-in numbers');
      assert.deepEqual(teams.conferences[0], { uri: TEAMS_JOIN, features: ['AUDIO', 'VIDEO'], label: loc.teamsJoinMeeting });
      assert.ok(teams.html.includes(`>${loc.teamsHeading.replace(/&/g, '&amp;')}</div>`), teams.html);
      assert.ok(teams.html.includes('data-mms-meeting-type="Teams"'));
      assert.ok(!sfb.html.includes('data-mms-meeting-type'), 'the SfB HTML is as before');

      for (const [block, type, join] of [[teams, 'Teams', TEAMS_JOIN], [sfb, 'SfB', SKYPE_JOIN]] as const) {
        const description = `${BEFORE}${block.text}${AFTER}`;
        const at = locateTextBlock(description);
        assert.ok(at, `${type}: the text block is found`);
        assert.equal(description.slice(at.start, at.end), block.text, `${type}: exactly the block, nothing around it`);
        const read = parseBlock(block.text);
        assert.equal(read.joinUrl, join);
        assert.equal(read.conferenceId, '1234567');
        assert.deepEqual(read.numbers, ['+14255550100', '+18005550199']);
        assert.equal(read.language, resolveLanguage(language), `${type}: the block's language is recognised`);
        const html = `<html><body><div>${BEFORE.replace(/\n/g, '<br>')}</div>\n${block.html}\n<div>${AFTER}</div></body></html>`;
        const hat = locateHtmlBlock(html);
        assert.ok(hat, `${type}: the HTML block is found`);
        assert.equal(html.slice(hat.start, hat.end), block.html);
        assert.equal(parseBlock(block.html).joinUrl, join);
        assert.equal(meetingTypeOf({ xProps: {}, description }), type, `${type}: recognised from the block alone`);
      }
    });
  }
});

describe('meetingTypeOf: the signals a calendar object carries', () => {
  const block = (type: 'SfB' | 'Teams') => renderBlock(input('en', type)).text;
  const cases: Array<[string, Parameters<typeof meetingTypeOf>[0], 'SfB' | 'Teams' | null]> = [
    ['an appointment without block or metadata', { xProps: {}, description: 'Lunch' }, null],
    ['no description at all', { xProps: {}, description: null }, null],
    ['our metadata without a block (removed by the organizer)', { xProps: { 'X-MMS-ONLINE-MEETING-ID': 'K7X2NQ4T' }, description: 'Lunch' }, 'SfB'],
    ['a Skype Online link in Exchange\'s property', { xProps: { 'X-MICROSOFT-SKYPETEAMSMEETINGURL': 'https://meet.lync.com/contoso/ashaw/K7X2NQ4T' }, description: null }, 'SfB'],
    ['the tenant\'s simple URL in Exchange\'s property', { xProps: { 'X-MICROSOFT-SKYPETEAMSMEETINGURL': SKYPE_JOIN }, description: null }, 'SfB'],
    ['a Teams link in Exchange\'s property', { xProps: { 'X-MICROSOFT-SKYPETEAMSMEETINGURL': TEAMS_JOIN }, description: null }, 'Teams'],
    ['a Skype conference URI', { xProps: { 'X-MICROSOFT-ONLINEMEETINGCONFLINK': 'conf:sip:ashaw@contoso.com;gruu;opaque=app:conf:focus:id:K7Q2X9ZP' }, description: null }, 'SfB'],
    ['a Teams conference URI', { xProps: { 'X-MICROSOFT-ONLINEMEETINGCONFLINK': 'conf:sip:ashaw@contoso.com;gruu;opaque=app:conf:focus:id:teams:2:0!19:meeting_NjQ5-thread.v2!b0f1!72f9' }, description: null }, 'Teams'],
    ['a Teams block behind a Skype conference URI (a converted meeting): the block wins', { xProps: { 'X-MICROSOFT-ONLINEMEETINGCONFLINK': 'conf:sip:ashaw@contoso.com;gruu;opaque=app:conf:focus:id:K7Q2X9ZP' }, description: block('Teams') }, 'Teams'],
    ['a Skype block pasted without metadata', { xProps: {}, description: `Hi\n\n${block('SfB')}` }, 'SfB'],
    ['a Teams block pasted without metadata', { xProps: {}, description: `Hi\n\n${block('Teams')}` }, 'Teams'],
  ];
  for (const [what, signals, expected] of cases) {
    it(`${what}: ${expected ?? 'no online meeting'}`, () => {
      assert.equal(meetingTypeOf(signals), expected);
    });
  }

  it('Exchange exports and client files are typed on import as the store indexes them', () => {
    const dir = path.join(import.meta.dirname, 'fixtures', 'ics');
    const expected: Record<string, 'SfB' | 'Teams' | null> = {
      'exchange/skype-conflink.ics': 'SfB',
      'exchange/skype-conflink-meetingurl.ics': 'SfB',
      'exchange/teams-meetingurl.ics': 'Teams',
      'exchange/teams-conflink.ics': 'Teams',
      'outlook-teams.ics': 'Teams',
      'google-calendar.ics': null,
    };
    for (const [file, type] of Object.entries(expected)) {
      const { objects } = splitCalendar(fs.readFileSync(path.join(dir, file), 'utf8'), file);
      assert.ok(objects.length > 0, file);
      const types = objects.map((o) => factsOf(indexObject(o.ics), o.ics).meetingType);
      assert.ok(types.includes(type), `${file}: ${JSON.stringify(types)} should include ${type}`);
      if (type !== null) assert.deepEqual([...new Set(types.filter((t) => t !== null))], [type], `${file}: every online meeting is ${type}`);
    }
  });
});
