// What is not a Skype or Teams meeting (review of issue 12): another provider's invitation between underscore lines
// that says "Click here to join the meeting" (as the Teams block does) is no block of ours and has no meeting type.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { locateTextBlock, meetingTypeOf } from '../src/domain/meeting-block/index.js';
import { localeFor } from '../src/domain/meeting-block/locales.js';

const U80 = '_'.repeat(80);
const body = (lines: readonly string[]) => ['Agenda: the plan.', '', U80, ...lines, U80, ''].join('\n');

describe('sections that are no online meeting of ours', () => {
  for (const language of ['en', 'fr', 'de', 'es', 'it', 'ja', 'zh-Hans']) {
    it(`a Zoom section with the Teams join label in ${language} is no block and no meeting`, () => {
      const text = body([localeFor(language).teamsJoinMeeting, 'https://zoom.us/j/123456789', 'Passcode: 123456']);
      assert.equal(locateTextBlock(text, null), null);
      assert.equal(meetingTypeOf({ xProps: {}, description: text }), null);
    });
  }
  it('a plain appointment with a pasted link that is no meeting link is no meeting', () => {
    const text = body(['Click here to join the meeting', 'https://example.org/agenda.pdf']);
    assert.equal(meetingTypeOf({ xProps: {}, description: text }), null);
  });
  it('our own Teams block is still one, by its heading, in every language', () => {
    for (const language of ['en', 'fr', 'de', 'es', 'it', 'ja', 'zh-Hans']) {
      const l = localeFor(language);
      const text = body([l.teamsHeading, l.teamsJoinMeeting, 'https://teams.contoso.com/l/meetup-join/19%3ameeting_ABC%40thread.v2/0']);
      assert.ok(locateTextBlock(text, null), language);
    }
  });
});
