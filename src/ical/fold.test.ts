import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeText, foldLine, unescapeText } from './index.js';

const octets = (s: string): number => Buffer.byteLength(s, 'utf8');
const unfold = (s: string): string => s.replace(/\r\n[ \t]/g, '');

test('a line of at most 75 octets is not folded (RFC 5545 §3.1)', () => {
  const line = 'X'.repeat(75);
  assert.equal(foldLine(line), line);
  assert.equal(foldLine(''), '');
});

test('a 76-octet line folds into 75 octets and a continuation starting with a space (RFC 5545 §3.1)', () => {
  const line = 'D'.repeat(76);
  assert.equal(foldLine(line), `${'D'.repeat(75)}\r\n D`);
});

test('folding counts octets, not characters, and never splits a character (RFC 5545 §3.1)', () => {
  const line = 'SUMMARY:' + '会'.repeat(30); // 8 + 90 octets
  const physical = foldLine(line).split('\r\n');
  assert.deepEqual(physical.map(octets), [74, 25]); // 8 + 22×3 = 74: a 23rd character would make 77
  assert.equal(unfold(foldLine(line)), line);
});

test('an emoji outside the BMP stays whole across a fold', () => {
  const line = 'A'.repeat(73) + '🚀' + 'B';
  assert.equal(foldLine(line), `${'A'.repeat(73)}\r\n 🚀B`);
});

test('folding with LF continues with LF and a space', () => {
  assert.equal(foldLine('x'.repeat(80), '\n'), `${'x'.repeat(75)}\n ${'x'.repeat(5)}`);
});

test('for any text, folded lines are at most 75 octets, valid UTF-8 each, and unfold to the input', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 400 }).filter((s) => !/[\r\n]/.test(s)), (line) => {
      const folded = foldLine(line);
      assert.equal(unfold(folded), line);
      const raw = Buffer.from(folded, 'utf8');
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let start = 0;
      for (let i = 0; i <= raw.length; i++) {
        if (i === raw.length || (raw[i] === 0x0d && raw[i + 1] === 0x0a)) {
          const physical = raw.subarray(start, i);
          assert.ok(physical.length <= 75, `physical line of ${physical.length} octets`);
          decoder.decode(physical); // throws if a fold split a UTF-8 sequence
          start = i + 2;
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('TEXT escaping covers backslash, semicolon, comma and newlines (RFC 5545 §3.3.11)', () => {
  assert.equal(escapeText('a\\b;c,d\ne'), 'a\\\\b\\;c\\,d\\ne');
  assert.equal(escapeText('x\r\ny\rz'), 'x\\ny\\nz');
  assert.equal(unescapeText('a\\\\b\\;c\\,d\\ne\\Nf'), 'a\\b;c,d\ne\nf');
});

test('an unknown escape such as a Windows path keeps its backslash', () => {
  assert.equal(unescapeText('C:\\temp\\data'), 'C:\\temp\\data');
  assert.equal(unescapeText(escapeText('C:\\temp')), 'C:\\temp');
});

test('for any text without carriage returns, unescape(escape(text)) is the text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !s.includes('\r')), (s) => {
      assert.equal(unescapeText(escapeText(s)), s);
      assert.doesNotMatch(escapeText(s), /\n/);
    }),
    { numRuns: 300 },
  );
});
