/**
 * Finding the meeting block in an HTML body (X-ALT-DESC;FMTTYPE=text/html).
 * Our own blocks carry a marker `<div id="mms-online-meeting">`; Teams and Skype blocks are found, like in text, by
 * their delimiter lines, and the range is then widened to whole elements so the replacement leaves no half elements.
 */
import { htmlToText, tagAt, tokens } from './html.js';
import { chooseBlock, pairDelimiters, type BlockRange, type Delimiter } from './pairing.js';

export const BLOCK_ELEMENT_ID = 'mms-online-meeting';

const OUR_DIV = new RegExp(`<div\\b[^<>]*\\bid\\s*=\\s*(["']?)${BLOCK_ELEMENT_ID}\\1(?=[\\s>/])[^<>]*>`, 'gi');

/** Our marked `<div>` elements, each up to its matching `</div>`; an unclosed one is ignored, never run to the end. */
function ourBlocks(html: string): BlockRange[] {
  const out: BlockRange[] = [];
  for (const m of html.matchAll(OUR_DIV)) {
    let depth = 0;
    for (const t of tokens(html, m.index)) {
      if (t.name !== 'div') continue;
      if (t.kind === 'open') depth++;
      else if (t.kind === 'close' && --depth === 0) {
        out.push({ start: m.index, end: t.end });
        break;
      }
    }
  }
  // A marked div nested in another marked div (a pasted copy) is part of the outer one.
  return out.filter((b) => !out.some((o) => o !== b && o.start <= b.start && b.end <= o.end));
}

const RUN = /(?<!_)_{64,96}(?!_)|(?<!\.)\.{64,200}(?!\.)/g;

/** Delimiter runs standing alone in their text node (`<span>____</span>`), outside the given ranges. */
function htmlDelimiters(html: string, skip: readonly BlockRange[]): Delimiter[] {
  const out: Delimiter[] = [];
  for (const t of tokens(html)) {
    if (t.kind !== 'text') continue;
    if (skip.some((r) => r.start <= t.start && t.end <= r.end)) continue;
    const text = html.slice(t.start, t.end);
    const runs = [...text.matchAll(RUN)];
    const run = runs[0];
    if (runs.length !== 1 || run === undefined || text.trim() !== run[0]) continue;
    const start = t.start + run.index;
    out.push({ start, end: start + run[0].length, kind: run[0][0] === '_' ? '_' : '.' });
  }
  return out;
}

// Never widen a block past these: they hold the whole body, not the block.
const CONTAINERS = new Set(['html', 'head', 'body', 'table', 'tbody', 'thead', 'tr', 'td', 'th', 'ul', 'ol', 'li']);

/** End of an element at `pos` that holds nothing visible (`<span></span>`, `<o:p></o:p>`), or -1. */
function skipEmptyElement(html: string, pos: number): number {
  const open = tagAt(html, pos);
  if (open === null || open.kind !== 'open') return -1;
  let p = open.end;
  for (;;) {
    while (p < html.length && /\s/.test(html[p] ?? '')) p++;
    const t = tagAt(html, p);
    if (t === null) return -1;
    if (t.kind === 'close') return t.name === open.name ? t.end : -1;
    if (t.kind === 'comment') p = t.end;
    else if (t.kind === 'open') {
      const inner = skipEmptyElement(html, p);
      if (inner < 0) return -1;
      p = inner;
    } else return -1;
  }
}

/**
 * Widens `[a0, b1)` (first delimiter character to last) to the elements that wrap the delimiters, e.g.
 * `<div><span>____` … `____</span></div>`, keeping the range balanced. Falls back to the bare range when the markup
 * does not allow a balanced one.
 */
export function widen(html: string, a0: number, b1: number): BlockRange {
  const openers: Array<{ start: number; name: string }> = [];
  let p = a0;
  for (;;) {
    let q = p;
    while (q > 0 && /\s/.test(html[q - 1] ?? '')) q--;
    if (q === 0 || html[q - 1] !== '>') break;
    const lt = html.lastIndexOf('<', q - 1);
    if (lt < 0) break;
    const t = tagAt(html, lt);
    if (t === null || t.end !== q || t.kind !== 'open' || CONTAINERS.has(t.name)) break;
    openers.unshift({ start: lt, name: t.name });
    p = lt;
  }
  const start = p;
  const stack: string[] = [];
  for (const t of tokens(html, start, b1)) {
    if (t.kind === 'open') stack.push(t.name);
    else if (t.kind === 'close') {
      const at = stack.lastIndexOf(t.name);
      if (at < 0) return { start: a0, end: b1 };
      stack.length = at;
    }
  }
  let end = b1;
  let q = b1;
  while (stack.length > 0) {
    while (q < html.length && /\s/.test(html[q] ?? '')) q++;
    const t = tagAt(html, q);
    if (t === null) break;
    if (t.kind === 'close') {
      const at = stack.lastIndexOf(t.name);
      if (at < 0) break;
      stack.length = at;
      q = end = t.end;
    } else if (t.kind === 'comment') {
      q = t.end;
    } else if (t.kind === 'open') {
      const after = skipEmptyElement(html, q);
      if (after < 0) break;
      q = after;
    } else break;
  }
  if (stack.length === 0) return { start, end };
  // Still open: the outermost wrappers close somewhere after user content, so leave them out of the block.
  const k = stack.length;
  if (k <= openers.length && stack.every((name, i) => openers[i]?.name === name)) {
    return { start: openers[k]?.start ?? a0, end };
  }
  return { start: a0, end: b1 };
}

/**
 * Where the meeting block stands in an HTML body: `[start, end)` covering whole elements, or null when there is no
 * complete block. Our marked blocks and Teams/Skype blocks are both candidates; the one containing `joinUrl` wins,
 * else the last one.
 */
export function locateHtmlBlock(html: string, joinUrl?: string | null): BlockRange | null {
  const ours = ourBlocks(html);
  const theirs = pairDelimiters(
    htmlDelimiters(html, ours),
    (a, b) => htmlToText(html.slice(a.end, b.start)),
    joinUrl,
  ).map((r) => widen(html, r.start, r.end));
  const all = [...ours, ...theirs].sort((x, y) => x.start - y.start);
  return chooseBlock(all, html, joinUrl);
}
