import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blockFingerprint, locateTextBlock, renderBlock, replaceTextBlock } from './index.js';
import { blockInputArb } from './arbitraries.js';
import * as F from './fixtures.js';

describe('blockFingerprint', () => {
  test('is the same for CRLF, CR and LF line ends and for trailing blanks', () => {
    const lf = renderBlock(F.SAMPLE).text;
    const fp = blockFingerprint(lf);
    assert.equal(blockFingerprint(lf.replaceAll('\n', '\r\n')), fp);
    assert.equal(blockFingerprint(lf.replaceAll('\n', '\r')), fp);
    assert.equal(blockFingerprint(lf.replaceAll('\n', '  \n')), fp);
    assert.equal(blockFingerprint(`\r\n${lf}\t \r\n`), fp);
  });

  test('is stable: a known block always hashes to the same value', () => {
    assert.match(blockFingerprint('abc'), /^v1:[0-9a-f]{64}$/);
    assert.equal(blockFingerprint('abc'), blockFingerprint('abc'));
    assert.notEqual(blockFingerprint('abc'), blockFingerprint('abd'));
  });

  test('a block written into a CRLF body and located again keeps its fingerprint', () => {
    const r = renderBlock(F.SAMPLE);
    const body = replaceTextBlock(F.TEAMS_TEXT_BODY, r.text)!;
    const at = locateTextBlock(body)!;
    assert.equal(blockFingerprint(body.slice(at.start, at.end)), r.fingerprint);
  });

  test('property: editing any visible character changes the fingerprint', () => {
    const visible = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2 }).filter((s) => s.trim() === s && s !== '');
    fc.assert(
      fc.property(blockInputArb, fc.nat(), visible, fc.constantFrom('replace', 'insert', 'delete'), (input, n, ch, op) => {
        const text = renderBlock(input).text;
        const positions = [...text.matchAll(/\S/gu)].map((m) => m.index);
        const at = positions[n % positions.length] ?? 0;
        const width = text.codePointAt(at)! > 0xffff ? 2 : 1;
        const edited =
          op === 'insert'
            ? text.slice(0, at) + ch + text.slice(at)
            : op === 'delete'
              ? text.slice(0, at) + text.slice(at + width)
              : text.slice(0, at) + ch + text.slice(at + width);
        fc.pre(edited !== text);
        assert.notEqual(blockFingerprint(edited), blockFingerprint(text));
      }),
      { numRuns: 500 },
    );
  });
});
