// Bytes to text. RFC 5545 §3.1 says to unfold before decoding, because some exporters fold at 75 octets in
// the middle of a multi-byte character; decoding such a file strictly as a whole would reject it.
import { invalid } from '../domain/errors.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const isContinuation = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf;

/** Length of the fold (CRLF or LF, then one space or tab) starting at `i`, or 0 if there is none. */
function foldAt(bytes: Uint8Array, i: number): number {
  if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a && (bytes[i + 2] === 0x20 || bytes[i + 2] === 0x09)) return 3;
  if (bytes[i] === 0x0a && (bytes[i + 1] === 0x20 || bytes[i + 1] === 0x09)) return 2;
  return 0;
}

/**
 * Finds the first invalid UTF-8 byte, reading a fold inside a multi-byte sequence as if it were not there.
 * Returns -1 when the bytes are valid UTF-8 once such folds are removed. Rejects what TextDecoder's fatal
 * mode rejects: overlong forms, surrogates, code points above U+10FFFF.
 */
function firstInvalidByte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    let j = i + 1;
    for (let k = 0; k < need; k++) {
      const fold = foldAt(bytes, j);
      if (fold && isContinuation(bytes[j + fold])) j += fold;
      const c = bytes[j];
      const [min, max] = k === 0 ? [lo, hi] : [0x80, 0xbf];
      if (c === undefined || c < min || c > max) return i; // report where the broken sequence starts
      j++;
    }
    i = j;
  }
  return -1;
}

/** Removes each fold that sits inside a multi-byte sequence (the byte after the fold is a continuation byte). */
function joinSplitSequences(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; ) {
    const fold = foldAt(bytes, i);
    if (fold && isContinuation(bytes[i + fold])) {
      i += fold;
      continue;
    }
    out[n++] = bytes[i++] as number;
  }
  return out.subarray(0, n);
}

/**
 * Strict UTF-8 decode of the raw bytes of an iCalendar file. A leading byte order mark is dropped. A fold that
 * splits a multi-byte character (some exporters fold at 75 octets regardless) is joined back, because RFC 5545
 * §3.1 unfolds before decoding; only those physical lines lose their fold, every other byte is kept.
 *
 * @throws MmsError('Invalid') naming the line and byte offset of the first invalid byte.
 */
export function decodeIcs(bytes: Uint8Array): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return strict.decode(body);
  } catch {
    // Fall through: either a fold splits a character (repairable) or the file is not UTF-8.
  }
  const bad = firstInvalidByte(body);
  if (bad < 0) return strict.decode(joinSplitSequences(body));
  const offset = bad + (body === bytes ? 0 : 3);
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  const hex = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
  throw invalid(
    `line ${line} (byte offset ${offset}): invalid UTF-8 byte 0x${hex}, the file is not UTF-8 text; save the file as UTF-8 and import it again`,
  );
}
