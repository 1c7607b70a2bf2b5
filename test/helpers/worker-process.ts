// Real `mms serve` worker processes for the crash and scale-out tests: started exactly as an operator would (the
// compiled dist/cli/main.js that bin/mms.js runs, the MMS_* environment, TZ=UTC), watched through their JSON log lines, stopped with SIGTERM or killed
// with SIGKILL. Every process started here is remembered, so a failing test can kill what it left behind and no
// child outlives the test run.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ensureBuiltDist, ROOT } from './built-dist.js';

/** What bin/mms.js runs. Through tsx each start cost ~2 s of CPU; the crash tests start ~100 workers. */
const DIST_MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
let distChecked = false;

export interface WorkerSettings {
  /** MMS_DATABASE_URL: a SQLite path or a PostgreSQL URL (with its schema in `options`). */
  readonly url: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly batchSize: number;
  /** MMS_LOG_LEVEL: info by default; debug adds a `migration progress` line per committed batch. */
  readonly logLevel?: 'info' | 'debug';
  /** More MMS_* settings (e.g. MMS_SECRET_KEY, MMS_RETRY_BASE), set after the ones above. */
  readonly env?: Readonly<Record<string, string>>;
}

/** One JSON log line of a worker (pino), as far as the tests read it. */
export interface LogRecord {
  readonly msg?: string;
  readonly worker?: string;
  readonly correlationId?: string;
  readonly invitesUpdate?: number;
  readonly [field: string]: unknown;
}

/** A log line and when it arrived here (performance.now()). */
export interface LogEvent {
  readonly at: number;
  readonly index: number;
  readonly rec: LogRecord;
}

export interface WaitOptions {
  /** Fail when the worker writes nothing at all (stdout or stderr) for this long: it is stuck, not slow. */
  readonly stallMs: number;
  /** Look at log lines from this index on (default: lines not seen yet, i.e. from now). */
  readonly from?: number;
  /** Gives up quietly (rejects with the abort reason) when aborted, e.g. because something else happened first. */
  readonly signal?: AbortSignal;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  readonly pid: number;
  /** Resolves with the worker id it logs once it runs (`MMS worker running`). */
  readonly ready: Promise<string>;
  readonly exited: Promise<Exit>;
  readonly alive: boolean;
  /** What it wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Every JSON log line so far, in order. */
  readonly logs: readonly LogEvent[];
  /**
   * Resolves with the first log line that `match` accepts. Time limits follow the worker's own activity: it fails
   * only when the worker exits first or goes silent for `stallMs`, never because a machine is slower than another.
   */
  waitForLog(what: string, match: (rec: LogRecord) => boolean, opts: WaitOptions): Promise<LogEvent>;
  signal(signal: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

// A test that throws before its finally still must not leave workers running on a database that is being dropped.
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Starts `node dist/cli/main.js serve` (what bin/mms.js and `npm start` run) with only the MMS_* settings given
 * here: no demo, a delay-free queue, info logs (to learn its worker id and when it runs). The first start builds
 * dist/ when it is older than src/, so no test passes on old code.
 */
export function startWorker(s: WorkerSettings): WorkerProcess {
  if (!distChecked) {
    ensureBuiltDist();
    distChecked = true;
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // The parent's own MMS_* settings must not leak in; NODE_TEST_CONTEXT would make the child act as a test file.
    if (!k.startsWith('MMS_') && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  }
  Object.assign(env, {
    TZ: 'UTC',
    MMS_DATABASE_URL: s.url,
    MMS_DEMO: 'false',
    MMS_LOG_LEVEL: s.logLevel ?? 'info',
    MMS_LEASE: `${s.leaseMs}ms`,
    MMS_POLL_INTERVAL: `${s.pollMs}ms`,
    MMS_BATCH_SIZE: String(s.batchSize),
    MMS_MIGRATION_DELAY: '0',
    // Each worker answers HTTP on a free port of its own: several run at once, and beside a developer's own mms serve.
    MMS_HTTP_ADDRESS: '127.0.0.1:0',
  }, s.env);
  const args = [DIST_MAIN, 'serve'];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start the worker process');
  live.add(child);
  let out = '';
  let pending = '';
  let lastOutput = performance.now();
  let gone = false;
  const logs: LogEvent[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  let resolveReady: (id: string) => void = () => undefined;
  let rejectReady: (err: Error) => void = () => undefined;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined); // a worker killed before it ran is not an error unless someone waits for it
  const keep = (chunk: string) => {
    lastOutput = performance.now();
    out += chunk;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    keep(chunk);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        const rec = JSON.parse(line) as LogRecord;
        logs.push({ at: performance.now(), index: logs.length, rec });
        if (rec.msg?.startsWith('MMS worker running') && rec.worker) resolveReady(rec.worker);
      } catch {
        // not a log line
      }
    }
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      gone = true;
      notify();
      rejectReady(new Error(`worker ${child.pid} exited (code ${code}, signal ${signal}) before it ran:\n${out.slice(-4000)}`));
      resolve({ code, signal });
    });
  });
  return {
    pid: child.pid,
    ready,
    exited,
    get alive() {
      return live.has(child);
    },
    output: () => out,
    logs,
    waitForLog(what, match, opts) {
      const from = opts.from ?? logs.length;
      const since = performance.now();
      return new Promise<LogEvent>((resolve, reject) => {
        let next = from;
        const done = (err: Error | undefined, hit?: LogEvent) => {
          listeners.delete(check);
          clearInterval(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(hit as LogEvent);
        };
        const check = () => {
          for (; next < logs.length; next++) {
            const e = logs[next] as LogEvent;
            if (match(e.rec)) return done(undefined, e);
          }
          if (gone) return done(new Error(`worker ${child.pid} exited (code ${child.exitCode}, signal ${child.signalCode}) while waiting for ${what}:\n${out.slice(-4000)}`));
          const quiet = performance.now() - Math.max(lastOutput, since);
          if (quiet > opts.stallMs) done(new Error(`worker ${child.pid} wrote nothing for ${Math.round(quiet)} ms while waiting for ${what}: stuck (MMS_CRASH_STALL_MS raises the limit):\n${out.slice(-4000)}`));
        };
        const onAbort = () => done(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error(`stopped waiting for ${what}`));
        // The stall check needs a clock; the log lines themselves arrive as events (check runs on each).
        const timer = setInterval(check, Math.min(1000, opts.stallMs));
        listeners.add(check);
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        if (opts.signal?.aborted) return onAbort();
        check();
      });
    },
    signal(sig) {
      if (live.has(child)) child.kill(sig);
    },
  };
}

/** Sends `sig` and waits for the exit; a worker still running after `timeoutMs` is killed and reported. */
export async function stopWorker(w: WorkerProcess, sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<Exit> {
  w.signal(sig);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const r = await Promise.race([w.exited, late]);
  clearTimeout(timer);
  if (r === 'late') {
    w.signal('SIGKILL');
    await w.exited;
    throw new Error(`worker ${w.pid} did not exit within ${timeoutMs} ms of ${sig}; killed it:\n${w.output().slice(-4000)}`);
  }
  return r;
}

/** SIGKILLs every worker started here that still runs, and waits until they are gone. */
export async function killAllWorkers(): Promise<void> {
  const waiting = [...live].map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  }));
  await Promise.all(waiting);
}

/** Polls `check` until it returns something other than undefined/false, or fails naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, opts: { timeoutMs: number; intervalMs?: number }): Promise<T> {
  const until = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    await sleep(opts.intervalMs ?? 20);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
