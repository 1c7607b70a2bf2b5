/**
 * The little HTML this module needs: escaping, entity decoding, a forgiving tag scanner and a text view.
 * Meeting bodies come from Outlook (Word HTML), Teams (minified, sometimes broken quoting) and our own renderer, so the
 * scanner never trusts attribute quoting: a tag is `<name …>` with no `<` or `>` inside.
 */

/** Escapes a value for element content and for double- or single-quoted attributes. */
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes the entities our renderer and Outlook write (named basics and every numeric form), in one pass. */
export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

export type TokenKind = 'open' | 'close' | 'void' | 'comment' | 'text';
export interface HtmlToken {
  kind: TokenKind;
  /** Lower-case tag name ('' for text and comments). */
  name: string;
  start: number;
  end: number;
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
// Comments may be unterminated (then they run to the end, as in a browser).
const TOKEN = /<!--[\s\S]*?(?:-->|$)|<(\/?)([A-Za-z][\w:.-]*)(?:[\s/][^<>]*)?>/g;

function tokenAt(match: RegExpExecArray): HtmlToken {
  const start = match.index;
  const end = start + match[0].length;
  if (match[0].startsWith('<!--')) return { kind: 'comment', name: '', start, end };
  const closing = match[1] === '/';
  const name = (match[2] ?? '').toLowerCase();
  if (closing) return { kind: 'close', name, start, end };
  const selfClosing = match[0].endsWith('/>');
  return { kind: VOID.has(name) || selfClosing ? 'void' : 'open', name, start, end };
}

/** Splits `html[from, to)` into tags, comments and text runs. */
export function* tokens(html: string, from = 0, to = html.length): Generator<HtmlToken> {
  const re = new RegExp(TOKEN.source, 'g');
  re.lastIndex = from;
  let pos = from;
  for (let m = re.exec(html); m !== null && m.index < to; m = re.exec(html)) {
    if (m.index > pos) yield { kind: 'text', name: '', start: pos, end: m.index };
    const t = tokenAt(m);
    if (t.end > to) {
      pos = m.index;
      break;
    }
    yield t;
    pos = t.end;
  }
  if (pos < to) yield { kind: 'text', name: '', start: pos, end: to };
}

/** The tag starting exactly at `pos`, if there is one. */
export function tagAt(html: string, pos: number): HtmlToken | null {
  const re = new RegExp(TOKEN.source, 'y');
  re.lastIndex = pos;
  const m = re.exec(html);
  return m === null ? null : tokenAt(m);
}

/** Elements that start a new line in a text view. */
export const LINE_BREAKING = new Set(['p', 'div', 'br', 'li', 'tr', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'ul', 'ol', 'body']);
/** Elements whose content is never shown. */
export const SKIP_CONTENT = new Set(['style', 'script', 'head', 'title']);

/**
 * A plain-text view of HTML the way Outlook converts it: block elements become line breaks and a link becomes
 * `text<href>`, so one parser reads both bodies.
 */
export function htmlToText(html: string): string {
  let out = '';
  let skipping: string | null = null;
  const hrefs: Array<string | null> = [];
  for (const t of tokens(html)) {
    if (skipping !== null) {
      if (t.kind === 'close' && t.name === skipping) skipping = null;
      continue;
    }
    if (t.kind === 'text') {
      out += decodeEntities(html.slice(t.start, t.end).replace(/[\r\n\t ]+/g, ' '));
    } else if (t.kind === 'open' && SKIP_CONTENT.has(t.name)) {
      skipping = t.name;
    } else if (t.kind === 'open' && t.name === 'a') {
      const href = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i.exec(html.slice(t.start, t.end));
      const value = href === null ? null : (href[1] ?? href[2] ?? href[3] ?? null);
      hrefs.push(value === null ? null : decodeEntities(value));
    } else if (t.kind === 'close' && t.name === 'a') {
      const href = hrefs.pop();
      if (href) out += `<${href}>`;
    } else if (t.kind !== 'comment' && LINE_BREAKING.has(t.name)) {
      out += '\n';
    }
  }
  return out
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** True when a string is HTML rather than plain text (Outlook's `text<url>` links do not count). */
export function looksLikeHtml(value: string): boolean {
  return /<(?:html|body|div|p|span|a|br|table|font)\b[^<>]*>/i.test(value);
}
