import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { locateHtmlBlock, renderBlock, SUPPORTED_LANGUAGES } from './index.js';
import * as F from './fixtures.js';

const cut = (html: string, joinUrl?: string | null): string | null => {
  const at = locateHtmlBlock(html, joinUrl);
  return at === null ? null : html.slice(at.start, at.end);
};

describe('locateHtmlBlock', () => {
  for (const language of SUPPORTED_LANGUAGES) {
    test(`finds our ${language} block as exactly its marked div`, () => {
      const block = renderBlock({ ...F.SAMPLE, language }).html;
      assert.equal(cut(`<html><body><p>Bonjour 👋 <b>東京</b></p>\n${block}\n<p>שלום</p></body></html>`), block);
    });
  }

  test('finds the Teams block from its first rule div to its last, leaving the body around it', () => {
    assert.equal(cut(F.TEAMS_HTML_BODY), F.TEAMS_HTML_BLOCK);
  });

  test('finds a Teams block that Outlook re-saved as Word HTML, with the div Outlook wrapped it in', () => {
    assert.equal(cut(F.TEAMS_WORD_HTML_BODY), `<div>\r\n${F.TEAMS_WORD_HTML_BLOCK}\r\n</div>`);
  });

  test('takes whole paragraphs but not a wrapper that also holds user text', () => {
    const body = F.TEAMS_WORD_HTML_BODY.replace(`${F.TEAMS_WORD_HTML_BLOCK}\r\n</div>`, `${F.TEAMS_WORD_HTML_BLOCK}\r\n<p>PS ✍️</p></div>`);
    assert.equal(cut(body), F.TEAMS_WORD_HTML_BLOCK);
  });

  test('finds a Skype for Business block between dotted rules in Word HTML', () => {
    assert.equal(cut(F.SKYPE_WORD_HTML_BODY), F.SKYPE_WORD_HTML_BLOCK);
  });

  test('finds a Teams block written straight into the body, with unquoted attributes', () => {
    const block =
      '<div style=width:100%;height:20px><span style=white-space:nowrap;color:#5f5f5f;opacity:.36>' + F.U80 + '</span></div>' +
      '<div class=me-email-text lang=en-US><div><span>Microsoft Teams meeting</span></div>' +
      `<a class=me-email-headline href=${F.TEAMS_JOIN_URL}>Click here to join the meeting</a></div>` +
      '<div style=width:100%;height:20px><span style=white-space:nowrap;color:#5f5f5f;opacity:.36>' + F.U80 + '</span></div>';
    assert.equal(cut(`<body><p>Prep 📎</p>${block}<p>Thanks</p></body>`), block);
  });

  test('widens no further than the wrapper when the rule shares a container with user content', () => {
    const body = `<div class=WordSection1><p><span>${F.U80}</span></p><p>Microsoft Teams meeting</p><p><span>${F.U80}</span></p><p>My notes</p></div>`;
    assert.equal(cut(body), `<p><span>${F.U80}</span></p><p>Microsoft Teams meeting</p><p><span>${F.U80}</span></p>`);
  });

  test('is not fooled by a link to a meeting in ordinary text', () => {
    assert.equal(cut(`<p>Recording: <a href="${F.TEAMS_JOIN_URL}">Microsoft Teams meeting</a></p>`), null);
  });

  test('returns null when the closing rule is missing', () => {
    const open = F.TEAMS_HTML_BODY.replace(/<div style="width:100%;height: 20px;"><span[^>]*>_{80}<\/span><\/div>\n<div>Notes/, '<div>Notes');
    assert.notEqual(open, F.TEAMS_HTML_BODY);
    assert.equal(cut(open), null);
  });

  test('an unclosed marked div never swallows what follows it: only the part between its rules is taken', () => {
    const ours = renderBlock(F.SAMPLE).html;
    const unclosed = ours.slice(0, -`<!-- mms-online-meeting:end --></div>`.length);
    const found = cut(`<p>x</p>${unclosed}<p>mine</p>`);
    assert.ok(found !== null);
    assert.ok(found.startsWith('<div style="white-space:nowrap') && found.endsWith(`${F.U80}</div>`));
    assert.ok(!found.includes('mine'));
    assert.equal(cut(`<p>x</p>${unclosed.replace(/\n<div style="white-space[^\n]*\n$/, '')}<p>mine</p>`), null);
  });

  test('with two blocks, prefers the one holding the join URL (even written with &amp;), else the last', () => {
    const mine = renderBlock(F.SAMPLE).html;
    const other = renderBlock({ ...F.SAMPLE, meetingId: 'other', joinUrl: 'https://meet.contoso.com/other/ZZZZ' }).html;
    const body = `<body>${mine}<p>fwd:</p>${other}</body>`;
    assert.ok(mine.includes('&amp;') && F.SAMPLE.joinUrl.includes('&'));
    assert.equal(cut(body, F.SAMPLE.joinUrl), mine);
    assert.equal(cut(body), other);
  });

  test('chooses between our block and a Teams block by join URL', () => {
    const ours = renderBlock(F.SAMPLE).html;
    const body = `${F.TEAMS_HTML_BEFORE}${ours}\n${F.TEAMS_HTML_BLOCK}${F.TEAMS_HTML_AFTER}`;
    assert.equal(cut(body, F.SAMPLE.joinUrl), ours);
    assert.equal(cut(body, F.TEAMS_JOIN_URL), F.TEAMS_HTML_BLOCK);
    assert.equal(cut(body), F.TEAMS_HTML_BLOCK);
  });

  test('finds our block by its rules after a mail client dropped the marker attributes', () => {
    const ours = renderBlock(F.SAMPLE).html;
    const stripped = ours.replace(/^<div [^>]*>/, '<div>').replace(/<!--[^>]*-->/g, '');
    const found = cut(`<p>a</p>${stripped}<p>b</p>`);
    assert.ok(found !== null);
    assert.ok(found.includes(F.U80) && found.includes('Join online meeting'));
    assert.ok(!found.includes('<p>'));
  });
});
