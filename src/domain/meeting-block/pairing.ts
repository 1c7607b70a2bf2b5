/**
 * Turning delimiter lines into blocks, the same way for plain text and HTML: a block is a section between two
 * consecutive delimiters of the same kind whose content is recognisably a meeting block.
 */
import { isBlockContent, isFooterContent, mentionsUrl } from './recognise.js';

/** A delimiter: a run of underscores (Teams, us) or dots (Skype) standing alone on its line. */
export interface Delimiter {
  start: number;
  end: number;
  kind: '_' | '.';
}

/** Half-open range `[start, end)` of a block, covering its delimiters. */
export interface BlockRange {
  start: number;
  end: number;
}

/** Longest block we accept, in lines: far above any real block, low enough not to swallow a whole body. */
const MAX_BLOCK_LINES = 120;

/**
 * Blocks found between delimiters, in document order. `contentOf` gives the text between two delimiters.
 * When two qualifying sections share a delimiter (one block lost its closing line), we cannot tell which is the
 * block, so neither is returned: leaving a body alone is better than eating the user's text.
 */
export function pairDelimiters(
  delimiters: readonly Delimiter[],
  contentOf: (open: Delimiter, close: Delimiter) => string,
  joinUrl?: string | null,
): BlockRange[] {
  const n = delimiters.length;
  const section = (i: number): string | null => {
    const a = delimiters[i];
    const b = delimiters[i + 1];
    if (a === undefined || b === undefined || a.kind !== b.kind) return null;
    return contentOf(a, b);
  };
  const qualifies = (i: number): boolean => {
    const content = section(i);
    if (content === null) return false;
    if (content.split(/\r\n|\n|\r/).length > MAX_BLOCK_LINES) return false;
    return isBlockContent(content, joinUrl);
  };
  const q = Array.from({ length: Math.max(0, n - 1) }, (_, i) => qualifies(i));
  const out: BlockRange[] = [];
  let i = 0;
  while (i < n - 1) {
    if (!q[i]) {
      i++;
      continue;
    }
    let k = i;
    while (q[k + 1]) k++;
    if (k > i) {
      i = k + 2;
      continue;
    }
    let last = i + 1;
    const footer = section(last);
    if (footer !== null && isFooterContent(footer)) last++;
    const open = delimiters[i];
    const close = delimiters[last];
    if (open !== undefined && close !== undefined) out.push({ start: open.start, end: close.end });
    i = last + 1;
  }
  return out;
}

/** The block to act on: the last one mentioning the join URL, else the last one (Outlook keeps the last block). */
export function chooseBlock(
  blocks: readonly BlockRange[],
  source: string,
  joinUrl?: string | null,
): BlockRange | null {
  if (joinUrl) {
    const matching = blocks.filter((b) => mentionsUrl(source.slice(b.start, b.end), joinUrl));
    const last = matching[matching.length - 1];
    if (last !== undefined) return last;
  }
  return blocks[blocks.length - 1] ?? null;
}
