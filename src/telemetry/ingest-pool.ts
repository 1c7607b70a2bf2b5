// The ingestion threads (issue 11 §7): the per-event CPU work of a batch — parsing, checks, HMACs, scrubbing, the
// rows — runs in worker threads beside the main thread, which keeps only what needs the database (ingest.ts). The
// request body goes to a thread as the bytes that came in (moved, not copied, when it owns its memory) and the rows
// come back as flat lists. MMS_TELEMETRY_THREADS sets the size (default: cores - 1, at least 1); 0 makes no thread
// and the main thread runs the same prepareBatch. Threads start with the first batch, each given the telemetry key
// once; until one is ready (it loads its modules) batches are prepared on the main thread, so no batch waits for a
// start. A thread that dies fails only the batches it held (503: nothing of them was stored, send again) and is
// replaced by the next batch; close() (the app's onClose, so `mms serve`'s shutdown) terminates every thread.
import type { Worker } from 'node:worker_threads';
import { MmsError } from '../domain/errors.js';
import { startModuleThread } from '../thread-module.js';
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
  /** Its module is loaded: it takes batches. */
  ready: boolean;
}

/** The thread's module: beside this one under tsx (sources), dist/cli/ingest-thread.js in the build (scripts/build.mjs). */
function startThread(masterKey: Buffer): Worker {
  // A copy of the 32 bytes alone: a Buffer may be a slice of a shared pool, and workerData would copy all of it.
  const workerData = { masterKey: Uint8Array.from(masterKey) };
  return startModuleThread(new URL('./ingest-thread.ts', import.meta.url), 'ingest-thread', workerData,
    'the telemetry thread\'s module (dist/cli/ingest-thread.js) is not found beside mms: reinstall it, or set MMS_TELEMETRY_THREADS=0');
}

/** After a thread that died before it was ready (a broken install, not a batch), no new one for this long. */
const RESTART_PAUSE_MS = 10_000;

export class IngestPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;
  private restartAt = 0;
  private readonly waiting: Array<() => void> = [];

  /**
   * `size` threads (0: none, the caller prepares on its own thread); `log` (the service log) hears when a thread
   * starts and why one ended while the pool was not being closed.
   */
  constructor(readonly size: number, private readonly log: PoolLog = { info: () => undefined, error: () => undefined }) {}

  /** The live threads (starting ones too): for diagnostics and the tests. */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /** Batches handed to a thread and not answered yet. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.slots) n += s.pending.size;
    return n;
  }

  /** Starts the threads that are missing (none while closing, or just after one failed to start). Never throws. */
  start(masterKey: Buffer): void {
    if (this.closing || Date.now() < this.restartAt) return;
    try {
      while (this.slots.length < this.size) this.slots.push(this.spawn(masterKey));
    } catch (err) {
      this.log.error(`a telemetry ingestion thread could not start (${(err as Error).message}); batches are prepared on the main thread meanwhile`);
      this.restartAt = Date.now() + RESTART_PAUSE_MS;
    }
  }

  /** Resolves once every thread is ready for batches (the service's start, the tests, the bench). */
  ready(): Promise<void> {
    if (this.readyCount() >= this.size) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private readyCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready) n++;
    return n;
  }

  /**
   * Prepares `job` in the least busy ready thread, starting missing threads (the first batch, or after a crash).
   * Undefined when no thread is ready yet — one is still loading: the caller prepares the batch on its own thread
   * rather than make it wait (prepareBatch, the same function).
   */
  prepare(job: PrepareJob, masterKey: Buffer): Promise<Prepared> | undefined {
    if (this.closing) return Promise.reject(new MmsError('Transient', 'the service is stopping: nothing of this telemetry batch was stored; send it again'));
    this.start(masterKey);
    let slot: Slot | undefined;
    for (const s of this.slots) if (s.ready && (!slot || s.pending.size < slot.pending.size)) slot = s;
    if (!slot) return undefined;
    const chosen = slot;
    const id = this.nextId++;
    // The bytes move to the thread. A body that is a view into a larger buffer (small ones share a pool) is copied
    // first, exactly its bytes: moving the buffer would take the others' memory away, cloning would copy all of it.
    let { body } = job;
    const transfer: ArrayBuffer[] = [];
    if (body instanceof Uint8Array) {
      if (body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength || !(body.buffer instanceof ArrayBuffer)) body = new Uint8Array(body);
      transfer.push(body.buffer as ArrayBuffer);
    }
    const request: ThreadRequest = { id, job: { ...job, body } };
    return new Promise<Prepared>((resolve, reject) => {
      chosen.pending.set(id, { resolve, reject });
      chosen.worker.postMessage(request, transfer);
    });
  }

  private spawn(masterKey: Buffer): Slot {
    const slot: Slot = { worker: startThread(masterKey), pending: new Map(), ready: false };
    this.log.info(`telemetry ingestion thread ${slot.worker.threadId} starting (${this.slots.length + 1} of ${this.size}, MMS_TELEMETRY_THREADS)`);
    slot.worker.on('message', (a: ThreadAnswer) => {
      if ('ready' in a) {
        slot.ready = true;
        if (this.readyCount() >= this.size) for (const w of this.waiting.splice(0)) w();
        return;
      }
      const p = slot.pending.get(a.id);
      if (!p) return;
      slot.pending.delete(a.id);
      if ('prepared' in a) p.resolve(a.prepared);
      else p.reject(new Error(`preparing a telemetry batch failed in its thread: ${a.failure}`));
    });
    slot.worker.on('error', (err) => {
      slot.failure = err.message;
    });
    // An answer that cannot be read here belongs to a batch that would then wait for ever: the thread is ended, which
    // fails the batches it holds (503) like any other end of a thread.
    slot.worker.on('messageerror', (err) => {
      slot.failure = `an answer could not be read: ${err.message}`;
      void slot.worker.terminate();
    });
    slot.worker.on('exit', (code) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      const what = slot.failure ?? `exit code ${code}`;
      if (!slot.ready) this.restartAt = Date.now() + RESTART_PAUSE_MS;
      if (!this.closing) this.log.error(`a telemetry ingestion thread stopped (${what}); ${slot.pending.size} batch(es) failed with 503, the next batch starts a new thread`);
      const why = this.closing ? 'the service is stopping' : `the telemetry thread preparing it stopped (${what})`;
      for (const p of slot.pending.values()) p.reject(new MmsError('Transient', `${why}: nothing of this telemetry batch was stored; send it again`));
      slot.pending.clear();
    });
    return slot;
  }

  /** Terminates every thread; batches still in one fail with 503 (the service is stopping). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const w of this.waiting.splice(0)) w();
  }
}
