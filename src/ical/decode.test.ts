import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIcs } from './index.js';
import { MmsError } from '../domain/errors.js';

const bytes = (...parts: Array<string | number[]>): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

function rejects(input: Uint8Array): MmsError {
  try {
    decodeIcs(input);
  } catch (e) {
    assert.ok(e instanceof MmsError, 'throws an MmsError');
    assert.equal(e.code, 'Invalid');
    assert.doesNotMatch(e.message, /\n/, 'the message is one line');
    return e;
  }
  assert.fail('decodeIcs accepted invalid UTF-8');
}

test('valid UTF-8 decodes to the same text, including CJK, emoji and RTL', () => {
  const text = 'BEGIN:VCALENDAR\r\nX-WR-CALNAME:会議 🚀 שלום\r\nEND:VCALENDAR\r\n';
  assert.equal(decodeIcs(Buffer.from(text, 'utf8')), text);
});

test('a leading byte order mark is dropped', () => {
  assert.equal(decodeIcs(bytes([0xef, 0xbb, 0xbf], 'BEGIN:VCALENDAR\r\n')), 'BEGIN:VCALENDAR\r\n');
});

test('a Latin-1 file is rejected with the line, the byte offset and the fix', () => {
  const e = rejects(bytes('BEGIN:VCALENDAR\r\nSUMMARY:Caf', [0xe9], '\r\nEND:VCALENDAR\r\n'));
  assert.match(e.message, /^line 2 \(byte offset 28\): invalid UTF-8 byte 0xE9/);
  assert.match(e.message, /save the file as UTF-8/);
});

test('overlong forms, surrogates and truncated sequences are rejected like a strict decoder does', () => {
  rejects(bytes('A', [0xc0, 0xaf]));
  rejects(bytes('A', [0xed, 0xa0, 0x80]));
  rejects(bytes('A', [0xf4, 0x90, 0x80, 0x80]));
  rejects(bytes('A', [0xe4, 0xbc]));
});

test('a fold that splits a multi-byte character is joined back before decoding (RFC 5545 §3.1)', () => {
  // "会" is E4 BC 9A; a careless exporter folded after its first byte.
  const input = bytes('SUMMARY:', [0xe4], '\r\n ', [0xbc, 0x9a], '議\r\nUID:x\r\n');
  assert.equal(decodeIcs(input), 'SUMMARY:会議\r\nUID:x\r\n');
  const lf = bytes('SUMMARY:', [0xe4, 0xbc], '\n ', [0x9a], '\nUID:x\n');
  assert.equal(decodeIcs(lf), 'SUMMARY:会\nUID:x\n');
});

test('folds between whole characters are kept as they are', () => {
  const text = 'DESCRIPTION:会議\r\n 議事録\r\n';
  assert.equal(decodeIcs(Buffer.from(text, 'utf8')), text);
});
