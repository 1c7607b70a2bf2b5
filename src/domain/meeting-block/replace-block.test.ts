import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  insertHtmlBlock,
  insertTextBlock,
  locateHtmlBlock,
  locateTextBlock,
  parseBlock,
  renderBlock,
  replaceHtmlBlock,
  replaceTextBlock,
} from './index.js';
import { blockInputArb, userTextArb } from './arbitraries.js';
import * as F from './fixtures.js';

const NEW = renderBlock({
  ...F.SAMPLE,
  language: 'fr-CA',
  dialIn: { ...F.SAMPLE.dialIn!, toll: { number: '+15145550142', label: 'Montréal' }, conferenceId: '7654321' },
});

describe('replaceTextBlock', () => {
  test('property: any user text before and after our block survives a replace byte for byte', () => {
    fc.assert(
      fc.property(userTextArb, userTextArb, blockInputArb, blockInputArb, (before, after, a, b) => {
        const A = renderBlock(a).text;
        const B = renderBlock(b).text;
        assert.equal(replaceTextBlock(`${before}\n\n${A}\n${after}`, B), `${before}\n\n${B}\n${after}`);
        assert.equal(replaceTextBlock(`${before}\n\n${A}\n${after}`, B, a.joinUrl), `${before}\n\n${B}\n${after}`);
      }),
      { numRuns: 500 },
    );
  });

  test('replaces the Teams block of a CRLF Outlook body and writes the new block with CRLF', () => {
    const out = replaceTextBlock(F.TEAMS_TEXT_BODY, NEW.text, F.TEAMS_JOIN_URL);
    assert.equal(out, F.TEAMS_TEXT_BEFORE + NEW.text.replaceAll('\n', '\r\n') + F.TEAMS_TEXT_AFTER);
  });

  test('replaces a Skype block between dotted lines', () => {
    const body = `Réunion hebdo 🗓️\r\n\r\n${F.SKYPE_TEXT_BLOCK_DOTS}\r\n\r\nMerci !`;
    assert.equal(
      replaceTextBlock(body, NEW.text),
      `Réunion hebdo 🗓️\r\n\r\n${NEW.text.replaceAll('\n', '\r\n')}\r\n\r\nMerci !`,
    );
  });

  test('replacing again with the same block changes nothing', () => {
    const once = replaceTextBlock(F.TEAMS_TEXT_BODY, NEW.text)!;
    assert.equal(replaceTextBlock(once, NEW.text), once);
  });

  test('returns null, and so changes nothing, when there is no block', () => {
    assert.equal(replaceTextBlock('Just a lunch 🥗', NEW.text), null);
    assert.equal(replaceTextBlock(F.TEAMS_TEXT_BODY.replace(/_{80}\r\n\r\nAgenda/, 'Agenda'), NEW.text), null);
  });

  test('with a copied block in the body, replaces only the one holding the join URL', () => {
    const mine = renderBlock(F.SAMPLE).text;
    const copied = renderBlock({ ...F.SAMPLE, joinUrl: 'https://meet.contoso.com/other/ZZZZ' }).text;
    const body = `${mine}\n\nFYI:\n${copied}`;
    assert.equal(replaceTextBlock(body, NEW.text, F.SAMPLE.joinUrl), `${NEW.text}\n\nFYI:\n${copied}`);
  });
});

describe('replaceHtmlBlock', () => {
  test('property: any user text before and after our HTML block survives a replace byte for byte', () => {
    fc.assert(
      fc.property(userTextArb, userTextArb, blockInputArb, blockInputArb, (before, after, a, b) => {
        const A = renderBlock(a).html;
        const B = renderBlock(b).html;
        assert.equal(replaceHtmlBlock(`${before}\n\n${A}\n${after}`, B), `${before}\n\n${B}\n${after}`);
        assert.equal(replaceHtmlBlock(`${before}\n\n${A}\n${after}`, B, a.joinUrl), `${before}\n\n${B}\n${after}`);
      }),
      { numRuns: 500 },
    );
  });

  test('replaces the Teams block of an HTML body and nothing else', () => {
    assert.equal(replaceHtmlBlock(F.TEAMS_HTML_BODY, NEW.html), F.TEAMS_HTML_BEFORE + NEW.html + F.TEAMS_HTML_AFTER);
  });

  test('replaces the Skype block of a Word HTML body and nothing else', () => {
    const i = F.SKYPE_WORD_HTML_BODY.indexOf(F.SKYPE_WORD_HTML_BLOCK);
    const expected = F.SKYPE_WORD_HTML_BODY.slice(0, i) + NEW.html + F.SKYPE_WORD_HTML_BODY.slice(i + F.SKYPE_WORD_HTML_BLOCK.length);
    assert.equal(replaceHtmlBlock(F.SKYPE_WORD_HTML_BODY, NEW.html), expected);
  });

  test('after a replace the new block is the one found, and it reads back the new details', () => {
    const out = replaceHtmlBlock(F.TEAMS_WORD_HTML_BODY, NEW.html)!;
    const at = locateHtmlBlock(out)!;
    assert.equal(out.slice(at.start, at.end), NEW.html);
    const p = parseBlock(NEW.html);
    assert.deepEqual([p.conferenceId, p.numbers[0], p.language], ['7654321', '+15145550142', 'fr']);
    assert.ok(out.startsWith(F.WORD_HTML_BEFORE.slice(0, -'<div>\r\n'.length)) && out.endsWith(F.WORD_HTML_AFTER.slice('\r\n</div>'.length)));
  });

  test('returns null when there is no block', () => {
    assert.equal(replaceHtmlBlock('<p>Lunch 🥗</p>', NEW.html), null);
  });
});

describe('insertTextBlock', () => {
  test('adds the block after the user text, separated by one blank line', () => {
    assert.equal(insertTextBlock('Agenda 📋', NEW.text), `Agenda 📋\n\n${NEW.text}`);
    assert.equal(insertTextBlock('Agenda\n', NEW.text), `Agenda\n\n${NEW.text}`);
    assert.equal(insertTextBlock('Agenda\n\n', NEW.text), `Agenda\n\n${NEW.text}`);
  });

  test('follows the line ends of a CRLF description', () => {
    assert.equal(insertTextBlock('Línea 1\r\nLínea 2', NEW.text), `Línea 1\r\nLínea 2\r\n\r\n${NEW.text.replaceAll('\n', '\r\n')}`);
  });

  test('an empty description becomes just the block', () => {
    assert.equal(insertTextBlock('', NEW.text), NEW.text);
  });

  test('an inserted block is found again and replaced', () => {
    const body = insertTextBlock('Standup 🧍', renderBlock(F.SAMPLE).text);
    assert.equal(replaceTextBlock(body, NEW.text), `Standup 🧍\n\n${NEW.text}`);
    assert.ok(locateTextBlock(body));
  });
});

describe('insertHtmlBlock', () => {
  test('adds the block just before </body>', () => {
    assert.equal(
      insertHtmlBlock('<html><body><p>Hi 👋</p></body></html>', NEW.html),
      `<html><body><p>Hi 👋</p>\n${NEW.html}\n</body></html>`,
    );
  });

  test('appends the block to a fragment without </body>', () => {
    assert.equal(insertHtmlBlock('<p>Hi</p>', NEW.html), `<p>Hi</p>\n${NEW.html}`);
    assert.equal(insertHtmlBlock('', NEW.html), NEW.html);
  });

  test('an inserted block is found again', () => {
    const body = insertHtmlBlock(F.TEAMS_HTML_BEFORE + '</body></html>', NEW.html);
    const at = locateHtmlBlock(body)!;
    assert.equal(body.slice(at.start, at.end), NEW.html);
  });
});

// String.prototype.replace reads `$$`, `$&`, `$1`, `$'` and `` $` `` in a replacement string; neither the user's text
// nor the block (labels and provider names come from the directory) may ever be read that way.
describe('replacement patterns in the text and in the block', () => {
  const DOLLARS = "$$ $& $1 $' $` $<x>";
  const block = renderBlock({
    ...F.SAMPLE,
    joinUrl: 'https://meet.contoso.com/ashaw/K7X2NQ4T?a=$1&b=$$',
    dialIn: { ...F.SAMPLE.dialIn!, provider: 'ThirdParty', providerName: `Acme ${DOLLARS}`, toll: { number: '+14255550100', label: `Seattle ${DOLLARS}` } },
  });

  test('are kept as written by replace and insert, in text and HTML', () => {
    assert.ok(block.text.includes(`Acme ${DOLLARS}`) && block.text.includes(`Seattle ${DOLLARS}`), block.text);
    const before = `Budget ${DOLLARS}\n`;
    const after = `\nPS ${DOLLARS}`;
    const text = replaceTextBlock(`${before}\n${NEW.text}${after}`, block.text);
    assert.equal(text, `${before}\n${block.text}${after}`);
    assert.equal(replaceTextBlock(text!, NEW.text), `${before}\n${NEW.text}${after}`);
    assert.equal(insertTextBlock(before, block.text), `${before}\n${block.text}`);

    const html = insertHtmlBlock(`<html><body><p>${DOLLARS}</p></body></html>`, block.html);
    assert.equal(html, `<html><body><p>${DOLLARS}</p>\n${block.html}\n</body></html>`);
    const swapped = replaceHtmlBlock(html, NEW.html);
    assert.equal(swapped, `<html><body><p>${DOLLARS}</p>\n${NEW.html}\n</body></html>`);
    assert.equal(replaceHtmlBlock(swapped!, block.html), html);
  });
});
