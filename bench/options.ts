// `npm run bench -- [options]`: sizes and switches.
import os from 'node:os';
import path from 'node:path';
import type { WorldSize } from './world.js';
import { SMTP_FULL, SMTP_QUICK, type SmtpSize } from './smtp.js';
import { CALDAV_FULL, CALDAV_QUICK, type CaldavSize } from './caldav.js';

export interface BenchOptions {
  readonly quick: boolean;
  readonly only: 'sqlite' | 'postgres' | 'smtp' | 'caldav' | 'cli' | 'concurrent' | 'api' | 'dashboard' | 'telemetry' | 'wakeup' | undefined;
  readonly size: WorldSize;
  readonly smtp: SmtpSize;
  readonly caldav: CaldavSize;
  /** Measured runs of the per-user scenario (after `warmup` runs). */
  readonly runs: number;
  readonly warmup: number;
  /** A tenant-wide run is stopped after this many seconds (0: runs to the end). */
  readonly maxSeconds: number;
  /** How often an idle worker process polls (MMS_POLL_INTERVAL). */
  readonly pollMs: number;
  readonly batchSize: number;
  /** Write V8 CPU profiles of the worker processes into bench/results/profiles. */
  readonly profile: boolean;
  /** Keep the databases (files and schemas) afterwards. */
  readonly keep: boolean;
  /** Build the world again even if a cached one matches. */
  readonly freshWorld: boolean;
  readonly workDir: string;
  /** `--growth`: the growth bench (bench/growth.ts) instead of the scenarios. */
  readonly growth: boolean;
}

export const USAGE = `npm run bench -- [--quick] [--only sqlite|postgres|smtp|caldav|cli|concurrent|api|dashboard|telemetry|wakeup] [--max-seconds N] [--runs N] [--profile] [--keep] [--fresh-world] [--work-dir DIR] [--growth]

  --quick          small sizes (100 organizers x 20 meetings, 5 per-user runs; SMTP 300 messages, CalDAV 50
                   meetings): about two minutes
  --only WHAT      run only the sqlite, the postgres, the smtp, the caldav, the cli (cmdlet latency) or the
                   concurrent (20 cmdlets during a tenant-wide migration, SQLite) or api (REST requests/s and
                   latency with 10,000 requests in the database, SQLite and PostgreSQL) or dashboard (the
                   dashboard's first load in Chromium with the same database: to the load event and the chart) or telemetry
                   (client telemetry events/s over HTTP against mms serve, and the plain-insert floor) or wakeup
                   (trigger -> claimed and -> Succeeded with the default delay and poll, mms serve from dist/,
                   SQLite and PostgreSQL) scenarios
  --max-seconds N  stop each tenant-wide engine run after N seconds and report the rate over the part done
                   (default 60 for the full size; 0 = no limit, the --quick default).
                   The floor runs (bench/floor-write.ts) stop at the same limit; such rows are marked *
  --runs N         measured per-user runs and runs of each cli command (default 20; 5 with --quick)
  --profile        write CPU profiles of the worker processes to bench/results/profiles and print their top functions
  --keep           keep the scenario databases (SQLite files, PostgreSQL schemas)
  --fresh-world    rebuild the world even when a cached one matches the sources and sizes
  --work-dir DIR   where the SQLite files go (default: $TMPDIR/mms-bench)
  --growth         only the growth bench (bench/growth.ts): tenant-wide at 10,000, 30,000 and 100,000 meetings,
                   per-user at 10, 100 and 1,000, ms per meeting and its slope, and the query plans at 100,000;
                   SQLite and PostgreSQL (--only sqlite|postgres for one); about 15 minutes with --max-seconds 60`;

const FULL: WorldSize = { organizers: 2000, meetingsPerOrganizer: 50, pool: 200, soloMeetings: 100 };
const QUICK: WorldSize = { organizers: 100, meetingsPerOrganizer: 20, pool: 40, soloMeetings: 100 };

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') return 'help';
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${USAGE}`);
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const takesValue = ['only', 'max-seconds', 'runs', 'work-dir', 'poll-ms'].includes(name);
    if (!takesValue) {
      if (!['quick', 'profile', 'keep', 'fresh-world', 'growth'].includes(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
      flags.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
    flags.set(name, value);
  }
  const quick = flags.has('quick');
  const only = flags.get('only');
  if (only !== undefined && !['sqlite', 'postgres', 'smtp', 'caldav', 'cli', 'concurrent', 'api', 'dashboard', 'telemetry', 'wakeup'].includes(String(only))) throw new Error(`--only takes sqlite, postgres, smtp, caldav, cli, concurrent, api, dashboard, telemetry or wakeup, not ${String(only)}`);
  const int = (name: string, fallback: number): number => {
    const v = flags.get(name);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new Error(`--${name} takes a whole number, not ${String(v)}`);
    return Number(v);
  };
  return {
    quick,
    only: only as BenchOptions['only'],
    size: quick ? QUICK : FULL,
    smtp: quick ? SMTP_QUICK : SMTP_FULL,
    caldav: quick ? CALDAV_QUICK : CALDAV_FULL,
    runs: int('runs', quick ? 5 : 20),
    warmup: quick ? 1 : 2,
    maxSeconds: int('max-seconds', quick ? 0 : 60),
    pollMs: int('poll-ms', 20),
    batchSize: 50,
    profile: flags.has('profile'),
    keep: flags.has('keep'),
    freshWorld: flags.has('fresh-world'),
    workDir: path.resolve((flags.get('work-dir') as string | undefined) ?? path.join(os.tmpdir(), 'mms-bench')),
    growth: flags.has('growth'),
  };
}
