/**
 * Finding the meeting block in a plain-text description (DESCRIPTION). Offsets are UTF-16 indexes into the JS string;
 * they always fall on ASCII delimiter characters, so a surrogate pair is never split.
 */
import { chooseBlock, pairDelimiters, type BlockRange, type Delimiter } from './pairing.js';

// Outlook writes 80 underscores, older clients 64-96; Skype for Business writes a line of dots (about 137).
// Leading and trailing blanks are allowed on the line but are not part of the delimiter, so they survive a replace.
const DELIMITER_LINE = /^[ \t]*(_{64,96}|\.{64,200})[ \t]*$/gm;

/** Every delimiter line in a description. */
export function textDelimiters(description: string): Delimiter[] {
  const out: Delimiter[] = [];
  for (const m of description.matchAll(DELIMITER_LINE)) {
    const run = m[1] ?? '';
    const start = m.index + m[0].indexOf(run);
    out.push({ start, end: start + run.length, kind: run[0] === '_' ? '_' : '.' });
  }
  return out;
}

/** True if the text contains a line that would be taken for a block delimiter. */
export function hasDelimiterLine(text: string): boolean {
  return textDelimiters(text).length > 0;
}

/**
 * Where the meeting block stands in a plain-text description: `[start, end)` from the first character of the opening
 * delimiter to the last character of the closing one, or null when there is no complete block.
 * Finds our blocks in every supported language and Teams/Skype blocks as Outlook writes them. When there are several,
 * the one containing `joinUrl` wins, else the last one.
 */
export function locateTextBlock(description: string, joinUrl?: string | null): BlockRange | null {
  const blocks = pairDelimiters(textDelimiters(description), (a, b) => description.slice(a.end, b.start), joinUrl);
  return chooseBlock(blocks, description, joinUrl);
}
