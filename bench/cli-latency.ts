// The cmdlet-latency scenario (issue 9 §1): how long one `mms` command takes, a fresh process each time, as an
// admin's script runs it — the compiled JavaScript (`node bin/mms.js`, what `npx mms` runs after `npm install`)
// beside the TypeScript sources through tsx (`node --import tsx src/cli/main.ts`, what every call ran before) and
// `node -e ""` (node's own start on this machine, the floor). See bench/README.md.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadDemo } from '../src/demo/index.js';
import { openDatabase } from '../src/store/index.js';
import { log, percentile, seconds } from './report.js';
import { REPO } from './worker-process.js';

/** A read cmdlet on the demo database answers within this (p50, a fresh process each run). */
export const TARGET_CLI_P50_MS = 250;
const CMDLET = ['Get-CsTenantMigrationConfiguration'];

export interface CliRow {
  /** What ran, e.g. "node bin/mms.js (dist/)". */
  readonly what: string;
  readonly runs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly targets: readonly string[];
  readonly detail: { readonly latenciesMs: readonly number[] };
}

interface Variant {
  readonly what: string;
  readonly args: readonly string[];
  readonly target: boolean;
}

const VARIANTS: readonly Variant[] = [
  { what: `node bin/mms.js ${CMDLET.join(' ')} (dist/)`, args: ['bin/mms.js', ...CMDLET], target: true },
  { what: `node --import tsx src/cli/main.ts ${CMDLET.join(' ')} (sources)`, args: ['--import', 'tsx', 'src/cli/main.ts', ...CMDLET], target: true },
  { what: 'node -e "" (node alone: the floor)', args: ['-e', ''], target: false },
];

/** Wall time of one fresh process from spawn to exit, in ms; fails on a non-zero exit (a failing command is no figure). */
function timeOnce(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    let err = '';
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code}: ${err.trim()}`));
      else if (err) reject(new Error(`node ${args.join(' ')} wrote to stderr (a stale dist/ makes bin/mms.js fall back to tsx): ${err.trim()}`));
      else resolve(ms);
    });
  });
}

/**
 * bin/mms.js runs dist/ only when it is at least as new as src/; otherwise it says so on stderr and runs the sources,
 * which would measure tsx under the dist/ label. Builds it first in that case (`npm run build`).
 */
function ensureBuilt(env: NodeJS.ProcessEnv): void {
  const probe = spawnSync(process.execPath, ['bin/mms.js', '--version'], { cwd: REPO, env, encoding: 'utf8' });
  if (probe.status === 0 && !probe.stderr) return;
  log(`cli: ${probe.stderr.trim() || `bin/mms.js --version exited ${probe.status}`}; building dist/ first (npm run build)`);
  const b = spawnSync('npm', ['run', 'build'], { cwd: REPO, env, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}${b.stderr}`);
}

/** The demo database (Initialize-MmsDemo), then `runs` measured runs of each variant, interleaved, after one warm-up each. */
export async function cliScenario(runs: number, workDir: string, keep: boolean): Promise<CliRow[]> {
  const file = path.join(workDir, 'cli-demo.sqlite');
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  fs.mkdirSync(workDir, { recursive: true });
  log('cli: loading the Contoso demo into a new SQLite database');
  const t0 = performance.now();
  const db = await openDatabase(file);
  try {
    await loadDemo(db, { now: Date.now() });
  } finally {
    await db.close();
  }
  log(`  demo loaded in ${seconds((performance.now() - t0) / 1000)}`);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMS_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, { MMS_DATABASE_URL: file, TZ: 'UTC' });
  ensureBuilt(env);
  try {
    const samples = VARIANTS.map(() => [] as number[]);
    // Interleaved, so that a busier moment of the machine falls on every variant alike.
    for (let i = -1; i < runs; i++) {
      for (const [k, v] of VARIANTS.entries()) {
        const ms = await timeOnce(v.args, env);
        if (i >= 0) samples[k]?.push(ms);
      }
    }
    const rows = VARIANTS.map((v, k): CliRow => {
      const s = samples[k] as number[];
      const p50 = percentile(s, 50);
      return {
        what: v.what,
        runs: s.length,
        p50Ms: p50,
        p99Ms: percentile(s, 99),
        targets: v.target ? [`p50<=${TARGET_CLI_P50_MS}ms: ${p50 <= TARGET_CLI_P50_MS ? 'yes' : 'NO'}`] : [],
        detail: { latenciesMs: s.map((x) => Math.round(x * 10) / 10) },
      };
    });
    for (const r of rows) log(`  ${r.what}: p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms`);
    return rows;
  } finally {
    if (!keep) for (const suffix of ['', '-wal', '-shm', '.secret-key']) fs.rmSync(file + suffix, { force: true });
  }
}

/** The cmdlet-latency table, printed after the others. */
export function formatCliTable(rows: readonly CliRow[]): string {
  const head = ['command (a fresh process each run)', 'runs', 'p50 ms', 'p99 ms', 'targets'];
  const body = rows.map((r) => [r.what, String(r.runs), r.p50Ms.toFixed(0), r.p99Ms.toFixed(0), r.targets.join(', ')]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 1 && i <= 3 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
