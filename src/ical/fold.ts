// Line folding (RFC 5545 §3.1): physical lines of at most 75 octets, continuation lines start with one space.

/** Octets of one code point in UTF-8. */
function utf8Width(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/** Length of a string in UTF-8 octets. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one code point of four octets.
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** RFC 5545 §3.1: "Lines of text SHOULD NOT be longer than 75 octets, excluding the line break." */
export const MAX_LINE_OCTETS = 75;

/**
 * Folds one logical content line so that no physical line exceeds 75 octets (RFC 5545 §3.1). Breaks fall
 * between code points, so a fold never splits a UTF-8 sequence (nor a UTF-16 surrogate pair). Continuation
 * lines start with one space, which counts towards their 75 octets. The result has no trailing line break.
 *
 * @param line the unfolded content line, without line break
 * @param eol the line break put before each continuation: CRLF unless the object being edited uses LF
 */
export function foldLine(line: string, eol: '\r\n' | '\n' = '\r\n'): string {
  // 25 UTF-16 code units are at most 75 octets (3 per unit; a 4-octet code point takes 2 units).
  if (line.length <= 25 || utf8Length(line) <= MAX_LINE_OCTETS) return line;
  const parts: string[] = [];
  let start = 0;
  let octets = 0;
  let limit = MAX_LINE_OCTETS;
  for (let i = 0; i < line.length; ) {
    const cp = line.codePointAt(i) as number;
    const units = cp > 0xffff ? 2 : 1;
    const w = utf8Width(cp);
    if (octets + w > limit) {
      parts.push(line.slice(start, i));
      start = i;
      octets = 0;
      limit = MAX_LINE_OCTETS - 1; // the leading space of the continuation line
    }
    octets += w;
    i += units;
  }
  parts.push(line.slice(start));
  return parts.join(eol + ' ');
}
