/**
 * Replacing or adding the block. Everything outside the located range is copied unchanged, so the user's text keeps
 * every byte in any script.
 */
import { locateHtmlBlock } from './locate-html.js';
import { locateTextBlock } from './locate-text.js';
import type { BlockRange } from './pairing.js';

/** A rendered block uses `\n`; in a CRLF body it takes CRLF so the body does not end up with mixed line ends. */
function withLineEnds(block: string, crlf: boolean): string {
  return crlf ? block.replace(/\r?\n/g, '\r\n') : block;
}

/**
 * Replaces the block of a plain-text description with `block`; null when the description has no complete block.
 * The new block takes CRLF line ends if the old one had them.
 */
export function replaceTextBlock(description: string, block: string, joinUrl?: string | null): string | null {
  const at = locateTextBlock(description, joinUrl);
  if (at === null) return null;
  const crlf = description.slice(at.start, at.end).includes('\r\n');
  return description.slice(0, at.start) + withLineEnds(block, crlf) + description.slice(at.end);
}

/**
 * Puts `block` in place of `text[range)` (a range a locator found, e.g. a former provider's lines); the block
 * takes CRLF line ends if the replaced text had them, everything outside the range stays.
 */
export function replaceRange(text: string, range: BlockRange, block: string): string {
  const crlf = text.slice(range.start, range.end).includes('\r\n') || (!text.slice(range.start, range.end).includes('\n') && text.includes('\r\n'));
  return text.slice(0, range.start) + withLineEnds(block, crlf) + text.slice(range.end);
}

/** Replaces the block of an HTML body with `block`; null when the body has no complete block. */
export function replaceHtmlBlock(html: string, block: string, joinUrl?: string | null): string | null {
  const at = locateHtmlBlock(html, joinUrl);
  if (at === null) return null;
  return html.slice(0, at.start) + block + html.slice(at.end);
}

/**
 * Adds a block to a description that has none, the way the add-in does: after the user's text, separated by one
 * blank line (no extra blank line if the text already ends with one), in the description's line-end style.
 */
export function insertTextBlock(description: string, block: string): string {
  const crlf = description.includes('\r\n');
  const eol = crlf ? '\r\n' : '\n';
  const b = withLineEnds(block, crlf);
  if (description.trim() === '') return description + b;
  const trailingBreaks = (/(?:\r\n|\n|\r)*$/.exec(description)?.[0] ?? '').match(/\r\n|\n|\r/g)?.length ?? 0;
  return description + eol.repeat(Math.max(0, 2 - trailingBreaks)) + b;
}

/** Adds a block to an HTML body that has none: just before `</body>` if there is one, else at the end. */
export function insertHtmlBlock(html: string, block: string): string {
  const body = html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  if (body < 0) return html === '' ? block : `${html}\n${block}`;
  const before = html.slice(0, body);
  const sep = before === '' || /\n$/.test(before) ? '' : '\n';
  return `${before}${sep}${block}\n${html.slice(body)}`;
}
