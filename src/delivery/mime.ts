import { randomBytes } from 'node:crypto';

// A small MIME composer (RFC 5322, RFC 2045–2047) for the one shape of message delivery sends: a few header fields
// and a multipart of text parts. Every line ends in CRLF and is at most 76 characters (header fields and
// quoted-printable and base64 bodies alike), so the bytes go on the wire as they are built. The one exception is a
// msg-id, which cannot be folded (RFC 5322 §3.6.4): its line may be longer than 78 (SHOULD), never than 998.

const CRLF = '\r\n';
/** Longest line we write (RFC 2045 §6.7/§6.8 for bodies; RFC 2047 §2 for header lines with encoded-words). */
const MAX_LINE = 76;
const HEX = '0123456789ABCDEF';
const utf8 = new TextEncoder();

/** A mailbox: an addr-spec and, optionally, a display name (any Unicode text). */
export interface MimeAddress {
  readonly address: string;
  readonly name?: string;
}

export interface MimePart {
  /** The whole Content-Type value, parameters included (`text/plain; charset=utf-8`). */
  readonly contentType: string;
  readonly encoding: 'quoted-printable' | 'base64';
  /** Text is sent as UTF-8 with its line breaks as CRLF (quoted-printable) or byte for byte (base64). */
  readonly body: string | Uint8Array;
}

export interface MimeMessage {
  /** Header fields in order, each a name and an already structured value (use the helpers below for text). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The parts of one `multipart/<subtype>` body (as they are, or encoded beforehand by {@link encodePart}). */
  readonly multipart: string;
  readonly parts: ReadonlyArray<MimePart | EncodedPart>;
  /** The boundary; a fresh random one by default. */
  readonly boundary?: string;
}

const isPrintableAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** RFC 2047 "Q" encoding of one code point, restricted to the characters allowed in a phrase (§5 (3)). */
function qEncode(cp: string): string {
  if (/^[A-Za-z0-9!*+\-/]$/.test(cp)) return cp;
  if (cp === ' ') return '_';
  let out = '';
  for (const b of utf8.encode(cp)) out += `=${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** Splits `text` between code points into chunks whose encoding (by `enc`, from each chunk's code points) fits `budget(first)`. */
function chunked(text: string, budget: (first: boolean) => number, size: (cps: string) => number): string[] {
  const out: string[] = [];
  let current = '';
  for (const cp of text) {
    if (current && size(current + cp) > budget(out.length === 0)) {
      out.push(current);
      current = '';
    }
    current += cp;
  }
  out.push(current);
  return out;
}

/**
 * `text` as a run of RFC 2047 encoded-words (UTF-8; "Q", or "B" when that is shorter, as for most non-Latin
 * scripts), split between code points so that none is longer than 75 characters and a line holding `used`
 * characters before the first one stays within 76; the words are joined by folding whitespace (CRLF SP), which a
 * reader drops between encoded-words (§6.2).
 */
export function encodedWords(text: string, used: number): string {
  const budget = (first: boolean) => (first ? Math.min(75, MAX_LINE - used) : MAX_LINE - 1) - 12; // =?UTF-8?Q? … ?=
  const qSize = (s: string) => {
    let n = 0;
    for (const cp of s) n += qEncode(cp).length;
    return n;
  };
  const bSize = (s: string) => Math.ceil(utf8.encode(s).length / 3) * 4;
  const q = chunked(text, budget, qSize);
  const b = chunked(text, budget, bSize);
  const words = b.length < q.length || (b.length === q.length && bSize(text) < qSize(text))
    ? b.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`)
    : q.map((w) => `=?UTF-8?Q?${[...w].map(qEncode).join('')}?=`);
  return words.join(`${CRLF} `);
}

/**
 * Folds printable ASCII text at its spaces so that each line holds at most 76 characters (the first `used` of them
 * already taken), or returns undefined when a word is too long for that.
 */
function foldAscii(text: string, used: number): string | undefined {
  const words = text.split(' ');
  let out = '';
  let line = used;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (i === 0) {
      out = w;
      line += w.length;
    } else if (line + 1 + w.length <= MAX_LINE || w === '') {
      out += ` ${w}`;
      line += 1 + w.length;
    } else {
      out += `${CRLF} ${w}`;
      line = 1 + w.length;
    }
    if (line > MAX_LINE) return undefined;
  }
  return out;
}

/**
 * An unstructured header value (Subject): as it is when it is printable ASCII that folds at its spaces, otherwise
 * RFC 2047 encoded-words. `name` is the field's name, whose length counts on the first line.
 */
export function unstructured(name: string, text: string): string {
  const used = name.length + 2;
  const plain = isPrintableAscii(text) && !text.includes('=?') && !/^ | $/.test(text) ? foldAscii(text, used) : undefined;
  return plain ?? encodedWords(text, used);
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;

/** A mailbox as a header value: `addr-spec`, or `phrase <addr-spec>` with the name quoted or encoded as it needs. */
export function mailbox(name: string, m: MimeAddress): string {
  const display = m.name?.trim();
  if (!display) return m.address;
  const used = name.length + 2;
  let phrase: string;
  if (isPrintableAscii(display) && !display.includes('=?')) {
    phrase = ATEXT.test(display) && !/ {2}/.test(display) ? display : `"${display.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    if (used + phrase.length > MAX_LINE) phrase = encodedWords(display, used);
  } else {
    phrase = encodedWords(display, used);
    // One encoded-word on a line of its own rather than two on the field's line: some readers (Python's email,
    // CPython gh-128110) keep the space between adjacent encoded-words in a display name.
    const alone = encodedWords(display, 1);
    if (phrase.includes(CRLF) && !alone.includes(CRLF)) phrase = `${CRLF} ${alone}`;
  }
  const last = phrase.slice(phrase.lastIndexOf('\n') + 1);
  const lastLength = phrase.includes('\n') ? last.length : used + phrase.length;
  return lastLength + 2 + m.address.length + 1 <= MAX_LINE ? `${phrase} <${m.address}>` : `${phrase}${CRLF} <${m.address}>`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** An RFC 5322 §3.3 date-time in UTC (`Mon, 30 Nov 2026 16:36:13 +0000`). */
export function rfc5322Date(at: Date): string {
  return `${DAYS[at.getUTCDay()]}, ${two(at.getUTCDate())} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()} ${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`;
}

/**
 * Quoted-printable (RFC 2045 §6.7) of UTF-8 text whose line breaks (LF, CR or CRLF) become CRLF: printable ASCII
 * but `=` as is, everything else `=XX`, a space or tab before a line break encoded, and lines longer than 76
 * characters broken by soft line breaks (`=` at the end), never inside an `=XX`.
 */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    const bytes = utf8.encode(line);
    let cur = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      const last = i === bytes.length - 1;
      const enc = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last) ? String.fromCharCode(b) : `=${HEX[b >> 4]}${HEX[b & 15]}`;
      // Room for a soft break '=' after this unless it is the line's last token.
      if (cur.length + enc.length > (last ? MAX_LINE : MAX_LINE - 1)) {
        out.push(`${cur}=`);
        cur = '';
      }
      cur += enc;
    }
    out.push(cur);
  }
  return out.join(CRLF);
}

/** Base64 (RFC 2045 §6.8) in lines of 76 characters. */
export function base64Lines(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += MAX_LINE) out.push(b64.slice(i, i + MAX_LINE));
  return out.join(CRLF);
}

/**
 * A boundary that cannot occur in any part: `=_` is never in quoted-printable output (`=` is always followed by two
 * hex digits or a line break) nor in base64 (whose only `=` is padding at the end), and it is random besides.
 */
export const newBoundary = () => `=_mms_${randomBytes(12).toString('hex')}`;

/** A part with its body already encoded: what {@link composeMime} joins, kept to put into more than one message. */
export interface EncodedPart {
  /** The part's header lines (Content-Type, Content-Transfer-Encoding), CRLF-joined. */
  readonly head: string;
  /** The encoded body, 7-bit, CRLF line ends, no final line break. */
  readonly body: string;
}

const isAscii = (s: string) => /^[\x00-\x7f]*$/.test(s);

/** A header field line (already folded value) with its name, checked to hold no bare line breaks. */
function field(name: string, value: string): string {
  if (/\r(?!\n[ \t])|(?<!\r)\n/.test(value)) throw new Error(`mime: the ${name} header field holds a line break that is not folding`);
  if (!isAscii(value)) throw new Error(`mime: the ${name} header field holds a non-ASCII character outside an encoded-word`);
  return `${name}:${value.startsWith(CRLF) ? '' : ' '}${value}`;
}

/** Encodes a part's body once (quoted-printable or base64 as it says). */
export function encodePart(p: MimePart): EncodedPart {
  const body = p.encoding === 'base64'
    ? base64Lines(typeof p.body === 'string' ? utf8.encode(p.body) : p.body)
    : quotedPrintable(typeof p.body === 'string' ? p.body : Buffer.from(p.body).toString('utf8'));
  return { head: `${field('Content-Type', p.contentType)}${CRLF}Content-Transfer-Encoding: ${p.encoding}`, body };
}

/** The whole message (header fields, `MIME-Version`, the multipart body), CRLF line ends, 7-bit ASCII bytes. */
export function composeMime(m: MimeMessage): Buffer {
  const boundary = m.boundary ?? newBoundary();
  const lines: string[] = m.headers.map(([n, v]) => field(n, v));
  lines.push('MIME-Version: 1.0', `Content-Type: multipart/${m.multipart};${CRLF} boundary="${boundary}"`, '');
  for (const p of m.parts) {
    const e = 'head' in p ? p : encodePart(p);
    lines.push(`--${boundary}`, e.head, '', e.body);
  }
  lines.push(`--${boundary}--`, '');
  return Buffer.from(lines.join(CRLF), 'latin1');
}
