import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { locateTextBlock, renderBlock, SUPPORTED_LANGUAGES } from './index.js';
import * as F from './fixtures.js';

/** The located slice, or null. */
const cut = (description: string, joinUrl?: string | null): string | null => {
  const at = locateTextBlock(description, joinUrl);
  return at === null ? null : description.slice(at.start, at.end);
};

describe('locateTextBlock', () => {
  for (const language of SUPPORTED_LANGUAGES) {
    test(`finds our ${language} block exactly, delimiters included`, () => {
      const block = renderBlock({ ...F.SAMPLE, language }).text;
      const before = 'Ordre du jour 📋\n\n';
      const description = `${before}${block}\nMerci`;
      assert.deepEqual(locateTextBlock(description), { start: before.length, end: before.length + block.length });
    });
  }

  test('finds the Teams block of an Outlook body with CRLF line ends', () => {
    assert.equal(cut(F.TEAMS_TEXT_BODY), F.TEAMS_TEXT_BLOCK_CRLF);
    const at = locateTextBlock(F.TEAMS_TEXT_BODY);
    assert.equal(at?.start, F.TEAMS_TEXT_BEFORE.length);
  });

  test('finds the same Teams block with LF line ends', () => {
    const lf = F.TEAMS_TEXT_BODY.replaceAll('\r\n', '\n');
    assert.equal(cut(lf), F.TEAMS_TEXT_BLOCK_CRLF.replaceAll('\r\n', '\n'));
  });

  test('finds a Skype block between lines of dots and between lines of underscores', () => {
    assert.equal(cut(`Weekly sync\r\n\r\n${F.SKYPE_TEXT_BLOCK_DOTS}\r\n`), F.SKYPE_TEXT_BLOCK_DOTS);
    assert.equal(cut(`Weekly sync\n\n${F.SKYPE_TEXT_BLOCK_UNDERSCORES}`), F.SKYPE_TEXT_BLOCK_UNDERSCORES);
  });

  test('finds the 2018 "Join Microsoft Teams Meeting" block', () => {
    assert.equal(cut(`Bitte pünktlich.\n\n${F.TEAMS_LEGACY_TEXT_BLOCK}\n`), F.TEAMS_LEGACY_TEXT_BLOCK);
  });

  test('takes the options footer that newer Teams templates put after the closing delimiter', () => {
    const block = cut(F.TEAMS_TEXT_WITH_FOOTER);
    assert.ok(block?.startsWith(F.U80) && block.endsWith(`view?localeCode=en-US>\n${F.U80}`));
    assert.ok(F.TEAMS_TEXT_WITH_FOOTER.endsWith(`${block}\nSee you there`));
  });

  test('accepts delimiter lines of 64 to 96 underscores and blanks around them, but not the blanks themselves', () => {
    for (const n of [64, 72, 96]) {
      const rule = '_'.repeat(n);
      const block = `${rule}\nMicrosoft Teams meeting\nClick here to join the meeting<${F.TEAMS_JOIN_URL}>\n${rule}`;
      assert.equal(cut(`x\n  ${block}  \ny`), block, `${n} underscores`);
    }
    for (const n of [63, 97]) {
      const rule = '_'.repeat(n);
      assert.equal(cut(`x\n${rule}\nMicrosoft Teams meeting\n${rule}\ny`), null, `${n} underscores`);
    }
  });

  test('is not fooled by text that merely mentions a join URL', () => {
    assert.equal(cut(`Recording of last week: ${F.TEAMS_JOIN_URL}\nMicrosoft Teams meeting notes below.`), null);
    assert.equal(cut(''), null);
  });

  test('returns null when the closing delimiter is missing instead of eating the rest', () => {
    const broken = F.TEAMS_TEXT_BODY.replace(/\r\n_{80}\r\n\r\nAgenda/, '\r\n\r\nAgenda');
    assert.ok(broken !== F.TEAMS_TEXT_BODY);
    assert.equal(cut(broken), null);
    const ours = renderBlock(F.SAMPLE).text;
    assert.equal(cut(`Notes\n\n${ours.slice(0, -81)}\nmy own text that must stay`), null);
  });

  test('ignores underscore lines around ordinary text and still finds the block', () => {
    const description = `${F.U80}\nSection 1: goals\n${F.U80}\n\n${renderBlock(F.SAMPLE).text}\n`;
    assert.equal(cut(description), renderBlock(F.SAMPLE).text);
  });

  test('with two blocks, prefers the one holding the meeting join URL, else the last one', () => {
    const mine = renderBlock(F.SAMPLE).text;
    const copied = renderBlock({ ...F.SAMPLE, joinUrl: 'https://meet.contoso.com/other/ZZZZ' }).text;
    const body = `${mine}\n\nForwarded from another invite:\n${copied}\n`;
    assert.equal(cut(body, F.SAMPLE.joinUrl), mine);
    assert.equal(cut(body, 'https://meet.contoso.com/other/ZZZZ'), copied);
    assert.equal(cut(body), copied);
    assert.equal(cut(body, 'https://meet.contoso.com/unknown'), copied);
  });

  test('tells a copied Teams block from ours by the join URL', () => {
    const ours = renderBlock({ ...F.SAMPLE, joinUrl: F.TEAMS_JOIN_URL.replace('NzQ5', 'QUJD') }).text;
    const body = `${ours}\r\n\r\n${F.TEAMS_TEXT_BLOCK_CRLF}`;
    assert.equal(cut(body, F.TEAMS_JOIN_URL.replace('NzQ5', 'QUJD')), ours);
    assert.equal(cut(body, F.TEAMS_JOIN_URL), F.TEAMS_TEXT_BLOCK_CRLF);
  });

  test('matches the join URL whatever the case of its percent-escapes', () => {
    const body = `${F.TEAMS_TEXT_BLOCK_CRLF}\r\n\r\n${renderBlock(F.SAMPLE).text}`;
    assert.equal(cut(body, F.TEAMS_JOIN_URL.replaceAll('%3a', '%3A')), F.TEAMS_TEXT_BLOCK_CRLF);
  });

  test('leaves a body alone when a lost delimiter makes two blocks share one line', () => {
    const a = `Microsoft Teams meeting\nClick here to join the meeting<${F.TEAMS_JOIN_URL}>\nmy notes`;
    const b = renderBlock(F.SAMPLE).text.split('\n').slice(1, -1).join('\n');
    assert.equal(cut(`${F.U80}\n${a}\n${F.U80}\n${b}\n${F.U80}`), null);
  });

  test('does not take a section of ordinary links between underscore lines for a block', () => {
    assert.equal(cut(`${F.U80}\nSlides: https://contoso.sharepoint.com/deck.pptx\n${F.U80}`), null);
  });
});
