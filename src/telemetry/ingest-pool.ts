// The ingestion threads (issue 11 §7): the per-event CPU work of a batch — parsing, checks, HMACs, scrubbing, the
// rows — runs in worker threads beside the main thread, which keeps only what needs the database (ingest.ts). The
// request body goes to a thread as the bytes that came in (moved, not copied, when it owns its memory) and the rows
// come back as flat lists. MMS_TELEMETRY_THREADS sets the size (default: cores - 1, at least 1); 0 makes no thread
// and the main thread runs the same prepareBatch. Threads start with the first batch, each given the telemetry key
// once. A thread that dies fails only the batches it held (503: nothing of them was stored, send again) and is
// replaced by the next batch; close() (the app's onClose, so `mms serve`'s shutdown) terminates every thread.
import { Worker } from 'node:worker_threads';
import { MmsError } from '../domain/errors.js';
import { packageRoot } from '../package-root.js';
import type { Prepared, PrepareJob } from './ingest-prepare.js';
import type { ThreadAnswer, ThreadRequest } from './ingest-thread.js';

/** Where the pool says what it does: the service's logger. */
export interface PoolLog {
  info(message: string): void;
  error(message: string): void;
}

interface Pending {
  readonly resolve: (p: Prepared) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** What ended it (an uncaught error in the thread), for the failed batches' message. */
  failure?: string;
}

/** The thread's module: beside this one under tsx (sources), dist/cli/ingest-thread.js in the build (scripts/build.mjs). */
function startThread(masterKey: Buffer): Worker {
  // A copy of the 32 bytes alone: a Buffer may be a slice of a shared pool, and workerData would copy all of it.
  const workerData = { masterKey: Uint8Array.from(masterKey) };
  if (import.meta.url.endsWith('.ts')) {
    // A thread does not inherit the main thread's tsx hooks: it registers them before it imports the module.
    const file = new URL('./ingest-thread.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`, { eval: true, execArgv: [], workerData });
  }
  const root = packageRoot();
  if (!root) throw new Error('the telemetry thread\'s module (dist/cli/ingest-thread.js) is not found beside mms: reinstall it, or set MMS_TELEMETRY_THREADS=0');
  return new Worker(new URL('dist/cli/ingest-thread.js', root), { workerData });
}

export class IngestPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;

  /**
   * `size` threads (0: none, the caller prepares on its own thread); `log` (the service log) hears when a thread
   * starts and why one ended while the pool was not being closed.
   */
  constructor(readonly size: number, private readonly log: PoolLog = { info: () => undefined, error: () => undefined }) {}

  /** The live threads: for diagnostics and the tests. */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /** Batches handed to a thread and not answered yet. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.slots) n += s.pending.size;
    return n;
  }

  /** Prepares `job` in the least busy thread (started, or replaced after a crash, here). */
  prepare(job: PrepareJob, masterKey: Buffer): Promise<Prepared> {
    if (this.closing) return Promise.reject(new MmsError('Transient', 'the service is stopping: the telemetry batch was not stored; send it again'));
    if (this.size < 1) return Promise.reject(new Error('IngestPool.prepare needs a pool of 1 thread or more (0: prepare on the main thread)'));
    try {
      while (this.slots.length < this.size) this.slots.push(this.spawn(masterKey));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    const { body } = job;
    // The bytes move to the thread when they are all of their memory; a view into a larger buffer is copied.
    const transfer = body instanceof Uint8Array && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer ? [body.buffer] : [];
    return new Promise<Prepared>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job } satisfies ThreadRequest, transfer);
    });
  }

  private spawn(masterKey: Buffer): Slot {
    const slot: Slot = { worker: startThread(masterKey), pending: new Map() };
    this.log.info(`telemetry ingestion thread ${slot.worker.threadId} started (${this.slots.length + 1} of ${this.size}, MMS_TELEMETRY_THREADS)`);
    slot.worker.on('message', (a: ThreadAnswer) => {
      const p = slot.pending.get(a.id);
      if (!p) return;
      slot.pending.delete(a.id);
      if ('prepared' in a) p.resolve(a.prepared);
      else p.reject(new Error(`preparing a telemetry batch failed in its thread: ${a.failure}`));
    });
    slot.worker.on('error', (err) => {
      slot.failure = err.message;
    });
    slot.worker.on('exit', (code) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      const why = this.closing ? 'the service is stopping' : `the telemetry thread preparing it stopped (${slot.failure ?? `exit code ${code}`})`;
      if (!this.closing) this.log.error(`a telemetry ingestion thread stopped (${slot.failure ?? `exit code ${code}`}); ${slot.pending.size} batch(es) failed with 503, the next batch starts a new thread`);
      for (const p of slot.pending.values()) p.reject(new MmsError('Transient', `${why}: nothing of this telemetry batch was stored; send it again`));
      slot.pending.clear();
    });
    return slot;
  }

  /** Terminates every thread; batches still in one fail with 503 (the service is stopping). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
