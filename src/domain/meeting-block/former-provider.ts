/**
 * The dial-in text of a third-party audio-conferencing provider (ACP) the organizer was on before: not a block of
 * ours nor of an add-in (no delimiter lines), just lines that carry the provider's numbers and passcode, written
 * in whatever form the provider's plug-in or the organizer chose. It is recognised only by those values, which the
 * directory kept in the audit trail when the provider was replaced: a run of lines that carries the passcode AND
 * one of the provider's numbers. Text that does not carry them is never touched.
 */
import { decodeEntities, LINE_BREAKING, SKIP_CONTENT, tokens } from './html.js';
import { widen } from './locate-html.js';
import type { BlockRange } from './pairing.js';

/** What the audit trail says a former provider wrote into invitations. */
export interface FormerProvider {
  readonly name: string;
  /** Toll and toll-free numbers, E.164. */
  readonly numbers: readonly string[];
  readonly participantPasscode: string;
  readonly url: string | null;
}

/** Where a former provider's text stands, and whose it is. */
export interface ProviderRun {
  readonly range: BlockRange;
  readonly provider: FormerProvider;
}

// A written number or code: digits with at most three separators between two digits ("+1 (425) 555-0100",
// "0800 555 0199", "1234 567#"); commas and letters end it, so "tel:+14255550100,,1234567#" gives two groups.
const DIGIT_GROUP = /\+?\d(?:[ \t\u00a0().\-/]{0,3}\d)*/g;

function digitGroups(line: string): string[] {
  return [...line.matchAll(DIGIT_GROUP)].map((m) => m[0].replace(/\D/g, ''));
}

/**
 * Whether a written group of digits is an E.164 number: in full ("+1 425…", "001 425…", "011 1 425…") or in its
 * national form (without the country code, with or without the trunk 0). Never fewer than seven digits, so a
 * short code, a year or a time is never taken for a number.
 */
function isNumber(group: string, e164: string): boolean {
  const full = e164.replace(/\D/g, '');
  if (group.length < 7 || full.length < 7) return false;
  if (group === full || group === `00${full}` || group === `011${full}`) return true;
  const national = group.replace(/^0/, '');
  return national.length >= 7 && full.length - national.length <= 3 && full.endsWith(national);
}

const norm = (s: string) => s.normalize('NFC').replace(/\s+/gu, ' ').trim().toLowerCase();

/** What one line carries of a provider's values. */
interface Carried {
  readonly number: boolean;
  readonly passcode: boolean;
  readonly other: boolean; // the provider's link or name
}

function carried(line: string, p: FormerProvider): Carried {
  const groups = digitGroups(line);
  const url = p.url !== null && norm(line).includes(norm(p.url).replace(/\/+$/, ''));
  const name = p.name.trim().length >= 3 && norm(line).includes(norm(p.name));
  return {
    number: groups.some((g) => p.numbers.some((n) => isNumber(g, n))),
    passcode: groups.some((g) => g === p.participantPasscode),
    other: url || name,
  };
}

/** Whether a short value (LOCATION, a CONFERENCE URI) carries one of the provider's numbers or its passcode. */
export function carriesProviderValue(value: string, providers: readonly FormerProvider[]): boolean {
  return providers.some((p) => {
    const c = carried(value, p);
    return c.number || c.passcode || (p.url !== null && value.trim() === p.url);
  });
}

// A line that only labels what follows ("Dial-in numbers:", "Join by phone"): kept with the run when it leads into
// it and names a dial-in; a label between two carrying lines always belongs to the run.
const LABEL = /^[^\d]{1,60}$/u;
const DIAL_IN_WORDS = /dial|call|phone|audio|conferenc|number|passcode|\bpin\b|access|toll|einwahl|telefon|num[eé]ro|t[eé]l[eé]phone|tel[eé]fono|konferenz/i;

/**
 * The first run of `lines` that carries a provider's passcode and at least one of its numbers: lines that each
 * carry one of its values (number, passcode, link, name), with labels between them (and a dial-in label just
 * before the first), and blank lines between them only where no other text stands. Returns line indexes, both
 * inclusive.
 */
function findRun(lines: readonly string[], providers: readonly FormerProvider[]): { first: number; last: number; provider: FormerProvider } | null {
  for (const provider of providers) {
    const marks = lines.map((l) => carried(l, provider));
    const carries = (i: number) => {
      const m = marks[i];
      return m !== undefined && (m.number || m.passcode || m.other);
    };
    const blank = (i: number) => (lines[i] ?? '').replace(/\u00a0/g, ' ').trim() === '';
    const label = (i: number) => !blank(i) && !carries(i) && LABEL.test((lines[i] ?? '').trim());
    let i = 0;
    while (i < lines.length) {
      if (!carries(i)) {
        i++;
        continue;
      }
      let first = i;
      while (first > 0 && label(first - 1) && DIAL_IN_WORDS.test(lines[first - 1] ?? '')) first--;
      let last = i;
      let j = i + 1;
      while (j < lines.length) {
        let k = j;
        while (k < lines.length && (label(k) || blank(k))) k++;
        if (k >= lines.length || !carries(k)) break;
        // Between two carrying lines: labels, or up to two blank lines with only dial-in labels — not a paragraph
        // of the organizer's that happens to stand between a number and a code.
        const gap = lines.slice(j, k);
        const blanks = gap.filter((_, n) => blank(j + n)).length;
        if (blanks > 2 || (blanks > 0 && gap.some((l, n) => label(j + n) && !DIAL_IN_WORDS.test(l)))) break;
        last = k;
        j = k + 1;
      }
      const inRun = marks.slice(first, last + 1);
      if (inRun.some((m) => m.passcode) && inRun.some((m) => m.number)) return { first, last, provider };
      i = last + 1;
    }
  }
  return null;
}

/** Where a former provider's run of lines stands in a plain-text description: first character to last (line breaks after it excluded). */
export function locateProviderText(description: string, providers: readonly FormerProvider[]): ProviderRun | null {
  const lines: Array<{ start: number; end: number; text: string }> = [];
  for (const m of description.matchAll(/[^\r\n]*(?:\r\n|\n|\r|$)/g)) {
    if (m[0] === '' && m.index >= description.length && lines.length) break;
    const text = m[0].replace(/(?:\r\n|\n|\r)$/, '');
    lines.push({ start: m.index, end: m.index + text.length, text });
    if (m[0] === '') break;
  }
  const run = findRun(lines.map((l) => l.text), providers);
  if (run === null) return null;
  return { range: { start: lines[run.first]!.start, end: lines[run.last]!.end }, provider: run.provider };
}

/**
 * Where a former provider's run stands in an HTML body: the lines as a browser shows them (block elements and
 * `<br>` break lines, a link counts with its href), the range widened to whole elements as for an add-in block.
 * Only the given provider is looked for when the text body already named it.
 */
export function locateProviderHtml(html: string, providers: readonly FormerProvider[]): ProviderRun | null {
  const lines: Array<{ start: number; end: number; text: string }> = [];
  let line = { start: -1, end: -1, text: '' };
  let skipping: string | null = null;
  const flush = () => {
    lines.push(line);
    line = { start: -1, end: -1, text: '' };
  };
  for (const t of tokens(html)) {
    if (skipping !== null) {
      if (t.kind === 'close' && t.name === skipping) skipping = null;
      continue;
    }
    if (t.kind === 'text') {
      const text = decodeEntities(html.slice(t.start, t.end));
      line.text += text;
      if (text.replace(/\u00a0/g, ' ').trim() === '') continue;
      if (line.start < 0) line.start = t.start;
      line.end = t.end;
    } else if (t.kind === 'open' && SKIP_CONTENT.has(t.name)) {
      skipping = t.name;
    } else if (t.kind === 'open' && t.name === 'a') {
      const href = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i.exec(html.slice(t.start, t.end));
      const value = href === null ? '' : (href[1] ?? href[2] ?? href[3] ?? '');
      line.text += ` <${decodeEntities(value)}> `;
    } else if (t.kind !== 'comment' && LINE_BREAKING.has(t.name)) {
      flush();
    }
  }
  flush();
  // Lines holding only markup have no place in the body; they count as blank.
  const run = findRun(lines.map((l) => (l.start < 0 ? '' : l.text)), providers);
  if (run === null) return null;
  const a = lines[run.first]!;
  const b = lines[run.last]!;
  return { range: widen(html, a.start, b.end), provider: run.provider };
}
