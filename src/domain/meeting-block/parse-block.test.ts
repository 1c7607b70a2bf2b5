import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { locateHtmlBlock, locateTextBlock, parseBlock, renderBlock, resolveLanguage, type BlockInput } from './index.js';
import { blockInputArb } from './arbitraries.js';
import * as F from './fixtures.js';

/** What parseBlock should find in a block rendered from `input`. */
function expected(input: BlockInput) {
  const d = input.dialIn;
  const numbers = d === null ? [] : [d.toll, d.tollFree].flatMap((n) => (n ? [n.number] : []));
  return {
    joinUrl: input.joinUrl,
    numbers: [...new Set(numbers)],
    conferenceId: d?.conferenceId ?? null,
    sharedNotesUrl: input.sharedNotesUrl ?? null,
    localNumbersUrl: d?.localNumbersUrl ?? null,
    providerName: d?.provider === 'ThirdParty' ? (d.providerName ?? '').trim().replace(/ {2,}/g, ' ') : null,
    language: resolveLanguage(input.language),
  };
}

describe('parseBlock', () => {
  test('reads back every detail of the sample block in every language, from text and from HTML', () => {
    for (const language of ['en', 'es', 'fr', 'it', 'de', 'ja', 'zh-Hans']) {
      const input = { ...F.SAMPLE, language };
      const r = renderBlock(input);
      assert.deepEqual(parseBlock(r.text), expected(input), `${language} text`);
      assert.deepEqual(parseBlock(r.html), expected(input), `${language} html`);
    }
  });

  test('round trip: parseBlock(renderBlock(x).text) recovers the inputs for any block', () => {
    fc.assert(
      fc.property(blockInputArb, (input) => {
        assert.deepEqual(parseBlock(renderBlock(input).text), expected(input));
      }),
      { numRuns: 400 },
    );
  });

  test('round trip through the HTML block recovers the same inputs', () => {
    fc.assert(
      fc.property(blockInputArb, (input) => {
        assert.deepEqual(parseBlock(renderBlock(input).html), expected(input));
      }),
      { numRuns: 300 },
    );
  });

  test('reads a Teams block as Outlook writes it in text', () => {
    const p = parseBlock(F.TEAMS_TEXT_BLOCK_CRLF);
    assert.equal(p.joinUrl, F.TEAMS_JOIN_URL);
    assert.deepEqual(p.numbers, ['+14255550100', '8665550199']);
    assert.equal(p.conferenceId, '612345789');
    assert.equal(p.localNumbersUrl, F.TEAMS_LOCAL_URL);
    assert.equal(p.sharedNotesUrl, null);
    assert.equal(p.language, 'en');
  });

  test('reads the Teams HTML block, the Word-HTML copy and the 2018 text block alike', () => {
    for (const [what, block] of [
      ['html', F.TEAMS_HTML_BLOCK],
      ['word', F.TEAMS_WORD_HTML_BLOCK],
      ['legacy', F.TEAMS_LEGACY_TEXT_BLOCK],
    ] as const) {
      const p = parseBlock(block);
      assert.equal(p.joinUrl, F.TEAMS_JOIN_URL, what);
      assert.equal(p.numbers[0], '+14255550100', what);
      assert.equal(p.conferenceId, '612345789', what);
    }
    assert.deepEqual(parseBlock(F.TEAMS_HTML_BLOCK).numbers, ['+14255550100', '8665550199']);
    assert.equal(parseBlock(F.TEAMS_LEGACY_TEXT_BLOCK).localNumbersUrl, F.TEAMS_LOCAL_URL);
  });

  test('reads a Skype for Business block, online and on-premises', () => {
    const online = parseBlock(F.SKYPE_TEXT_BLOCK_DOTS);
    assert.equal(online.joinUrl, F.SKYPE_JOIN_URL);
    assert.deepEqual(online.numbers, ['+14255550100', '+33170375500']);
    assert.equal(online.conferenceId, '73194622');
    assert.equal(online.localNumbersUrl, 'https://dialin.lync.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=73194622');
    const onPrem = parseBlock(F.SKYPE_WORD_HTML_BLOCK);
    assert.equal(onPrem.joinUrl, F.SKYPE_ONPREM_JOIN_URL);
    assert.deepEqual(onPrem.numbers, ['+27105550123']);
    assert.equal(onPrem.conferenceId, '4455667');
    assert.equal(onPrem.localNumbersUrl, 'https://dialin.fabrikam.com/?id=4455667');
  });

  test('meeting IDs, passcodes and help links are not taken for numbers or join links', () => {
    const p = parseBlock(F.TEAMS_TEXT_BLOCK_CRLF);
    assert.ok(!p.numbers.some((n) => n.includes('245118377604')));
    const skype = parseBlock(F.SKYPE_TEXT_BLOCK_DOTS);
    assert.ok(!skype.numbers.includes('73194622'));
  });

  test('a block without recognisable details gives nulls, not guesses', () => {
    assert.deepEqual(parseBlock('________\nnothing to see here\n________'), {
      joinUrl: null,
      numbers: [],
      conferenceId: null,
      sharedNotesUrl: null,
      localNumbersUrl: null,
      providerName: null,
      language: null,
    });
  });

  test('parses what the locators cut out of a real body', () => {
    const text = F.TEAMS_TEXT_BODY;
    const t = locateTextBlock(text);
    assert.ok(t);
    assert.equal(parseBlock(text.slice(t.start, t.end)).joinUrl, F.TEAMS_JOIN_URL);
    const html = F.TEAMS_HTML_BODY;
    const h = locateHtmlBlock(html);
    assert.ok(h);
    assert.equal(parseBlock(html.slice(h.start, h.end)).conferenceId, '612345789');
  });
});
