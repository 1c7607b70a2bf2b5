// Lines a cmdlet wants said beside its result — a summary, a warning — printed on stderr after the result, so that
// stdout (and --json) stays the result itself, as PowerShell keeps Write-Warning out of the pipeline.
import type { CmdletResult } from './cmdlet.js';

/** A result with lines for stderr; any CmdletResult may carry them. */
export type NoticedResult = CmdletResult & { readonly notices?: readonly string[] };

/** `result` with `lines` to print on stderr after it (each as one `mms: …` line). */
export function withNotices(result: CmdletResult, ...lines: readonly string[]): CmdletResult {
  const before = (result as NoticedResult).notices ?? [];
  return Object.assign({}, result, { notices: [...before, ...lines] });
}

/** The stderr text of a result's notices ('' when it has none). */
export function noticeText(result: CmdletResult): string {
  const lines = (result as NoticedResult).notices ?? [];
  return lines.map((l) => `mms: ${l.replace(/\s*[\r\n]+\s*/g, ' ').trim()}\n`).join('');
}
