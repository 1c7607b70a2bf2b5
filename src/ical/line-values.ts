import { parseContentLine, readLines } from './content-line.js';
import { foldLine } from './fold.js';

/**
 * Rewrites the raw value of every `name` property line, wherever it is, through `f`; a line whose value `f` keeps
 * keeps its raw bytes, a changed one is folded again (75 octets) with its own line break. A cheap, line-level
 * transform for store codecs (no parse of the whole object): the caller knows the value's syntax.
 */
export function mapPropertyValues(ics: string, name: string, f: (value: string, params: ReadonlyArray<{ name: string; value: string }>) => string): string {
  const upper = name.toUpperCase();
  let changed = false;
  const out = readLines(ics).map((line) => {
    if (line.text.length < upper.length || line.text.slice(0, upper.length).toUpperCase() !== upper) return line.raw;
    const p = parseContentLine(line.text);
    if (!p || p.name !== upper) return line.raw;
    const next = f(p.value, p.params.map((x) => ({ name: x.name, value: x.values.join(',') })));
    if (next === p.value) return line.raw;
    changed = true;
    return foldLine(`${p.nameRaw}${p.paramsRaw}:${next}`, line.eol === '\n' ? '\n' : '\r\n') + line.eol;
  });
  return changed ? out.join('') : ics;
}
