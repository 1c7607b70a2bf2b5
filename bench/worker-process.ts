// Worker processes as an operator runs them: the built `mms serve` (dist/cli/main.js, what bin/mms.js and `npm start`
// run; built first when stale) with MMS_* variables, and their peak resident memory read from /proc/<pid>/status
// (VmHWM). With --profile they run the sources through tsx instead, so that the profile names source files.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVE_NODE_OPTIONS } from '../src/cli/serve.js';
import { ensureBuiltDist } from '../test/helpers/built-dist.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** VmHWM (peak resident set) of a process in MB, or undefined once it is gone. */
export function peakRssMb(pid: number | 'self'): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Current resident set (VmRSS) of a process in MB. */
export function rssMb(pid: number | 'self'): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets this process's VmHWM to its current RSS (Linux clear_refs 5), so a later peak belongs to what follows. */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export interface WorkerProcess {
  readonly pid: number;
  /** The highest VmHWM seen so far (sampled every 100 ms and at stop). */
  peakMb(): number;
  /** Set once the process has exited (with its last stderr lines). */
  exited(): { code: number | null; stderr: string } | undefined;
  /** SIGTERM: the worker stops claiming, gives back the request in hand, and exits. */
  stop(): Promise<{ code: number | null; killed: boolean; peakMb: number; stderr: string }>;
}

export interface WorkerOptions {
  readonly databaseUrl: string;
  readonly pollMs: number;
  /** Write a V8 CPU profile (.cpuprofile) into this folder when the worker exits. */
  readonly cpuProfileDir?: string;
  /** More MMS_* settings (e.g. MMS_SMTP_URL for the SMTP scenario). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts one `mms serve` worker process. */
export function startWorker(opts: WorkerOptions): WorkerProcess {
  const args: string[] = [];
  if (opts.cpuProfileDir) {
    fs.mkdirSync(opts.cpuProfileDir, { recursive: true });
    args.push(...SERVE_NODE_OPTIONS, '--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', opts.cpuProfileDir, 'src/cli/main.ts', 'serve');
  } else {
    ensureBuiltDist();
    args.push(...SERVE_NODE_OPTIONS, 'dist/cli/main.js', 'serve'); // the node options npm start and the unit give it
  }
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO,
    env: {
      ...process.env,
      MMS_DATABASE_URL: opts.databaseUrl,
      MMS_DEMO: 'false',
      MMS_LOG_LEVEL: 'silent',
      MMS_POLL_INTERVAL: `${opts.pollMs}ms`,
      MMS_HTTP_ADDRESS: '127.0.0.1:0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('bench: could not start a worker process (node --import tsx src/cli/main.ts serve)');
  let stderr = '';
  child.stdout?.on('data', () => undefined);
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let peak = 0;
  const sample = () => {
    const v = peakRssMb(pid);
    if (v !== undefined && v > peak) peak = v;
  };
  const timer = setInterval(sample, 100);
  let exit: { code: number | null; stderr: string } | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    exit = { code, stderr };
    resolve(code);
  }));
  return {
    pid,
    peakMb: () => (sample(), peak),
    exited: () => exit,
    async stop() {
      sample();
      clearInterval(timer);
      child.kill('SIGTERM');
      let killed = false;
      const killer = setTimeout(() => {
        killed = exit === undefined;
        child.kill('SIGKILL');
      }, 30_000);
      const code = await exited;
      clearTimeout(killer);
      return { code, killed, peakMb: peak, stderr };
    },
  };
}
