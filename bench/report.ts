// Printing: progress lines while the bench runs, the result table at the end, and the same as JSON.
import fs from 'node:fs';
import path from 'node:path';

const started = performance.now();

/** A progress line, prefixed with the time since the bench started. */
export function log(message: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${t}s] ${message}\n`);
}

export function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

/** Nearest-rank percentile (p99 of 20 samples is the largest one). */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export interface ResultRow {
  readonly scenario: 'per-user' | 'tenant-wide';
  readonly database: 'sqlite' | 'postgres';
  /** How the work ran: "in-process (drain)", "1 process", "2 processes". */
  readonly workers: string;
  /** Meetings migrated (Updated) in the measured part. */
  readonly meetings: number;
  readonly seconds: number;
  readonly meetingsPerSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly peakRssMb?: number;
  /** The physical floor (bench/floor-write.ts): the same rows and bytes with plain prepared statements. */
  readonly floorMeetingsPerSecond?: number;
  /** False when the floor run was stopped at --max-seconds (its rate is over the part done). */
  readonly floorComplete?: boolean;
  /** Engine meetings/s divided by floor meetings/s: the share of the storage limit the engine reaches. */
  readonly ratio?: number;
  /** False when the run was stopped at --max-seconds before every request finished. */
  readonly complete: boolean;
  /** Target verdicts, e.g. "p50<=300ms: no". */
  readonly targets: readonly string[];
  readonly notes: readonly string[];
  readonly detail: Record<string, unknown>;
}

const num = (v: number | undefined, digits = 0): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));

/** The result table, as printed at the end. */
export function formatTable(rows: readonly ResultRow[]): string {
  const head = ['scenario', 'database', 'workers', 'meetings', 'seconds', 'meetings/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'floor mtg/s', 'engine/floor', 'targets'];
  const body = rows.map((r) => [
    r.scenario,
    r.database,
    r.workers,
    `${r.meetings}${r.complete ? '' : '*'}`,
    num(r.seconds, 1),
    num(r.meetingsPerSecond, 0),
    num(r.p50Ms, 0),
    num(r.p99Ms, 0),
    num(r.peakRssMb, 0),
    r.floorMeetingsPerSecond === undefined ? '-' : `${num(r.floorMeetingsPerSecond, 0)}${r.floorComplete === false ? '*' : ''}`,
    r.ratio === undefined ? '-' : r.ratio.toFixed(3),
    r.targets.join(', '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 && i <= 10 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  if (rows.some((r) => !r.complete || r.floorComplete === false)) out.push('* partial: stopped at --max-seconds before every request (or every organizer of the floor) was done; the rate is over the part done (each user is independent, so it is the steady rate)');
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.scenario}/${r.database}/${r.workers}: ${n}`));
  if (notes.length) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

/** Writes bench/results/latest.json (and the folder's .gitignore). */
export function writeJson(file: string, content: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const ignore = path.join(path.dirname(file), '.gitignore');
  if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, '*.json\nprofiles/\n');
  fs.writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}
