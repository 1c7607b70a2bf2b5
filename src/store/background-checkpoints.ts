import type SQLite from 'better-sqlite3';
import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../thread-module.js';
import { WAL_AUTOCHECKPOINT_PAGES } from './checkpoint.js';
import type { CheckpointRequest } from './checkpoint-thread.js';

/** How often the checkpoint thread copies the WAL into the database file. */
export const BACKGROUND_CHECKPOINT_MS = 100;

/**
 * While the thread runs, the writing connection's own automatic checkpoint stays as a safety net only, at 4 × the
 * usual size: it fires if the thread falls behind (or a reader keeps the WAL from starting over), never otherwise.
 */
export const SAFETY_NET_PAGES = 4 * WAL_AUTOCHECKPOINT_PAGES;

export interface BackgroundCheckpoints {
  /** The thread, while it runs (diagnostics and tests). */
  readonly thread: Worker | undefined;
  /** Asks for a checkpoint now (a burst of writes ended), without waiting for it; false when no thread runs. */
  nudge(): boolean;
  /** Stops the thread after a last checkpoint; the connection checkpoints by itself again. */
  stop(): Promise<void>;
}

/**
 * Moves SQLite's checkpoints off the thread that writes (`mms serve`'s, issue 11 §7 and issue 13). In WAL mode with
 * synchronous=NORMAL a commit does not wait for the disk; a checkpoint does, twice (the WAL, then the database
 * file), and SQLite runs it inside the commit that crosses WAL_AUTOCHECKPOINT_PAGES. Telemetry ingestion at
 * ~30,000 events/s spent those fsyncs on its only writing thread (an strace measured 0.52 s of 5 s of census, 1.43
 * s of 5 s of error reports); with checkpoints in a thread of their own it took ~36,000 (the bench's quick mix).
 * The thread's own connection checkpoints every BACKGROUND_CHECKPOINT_MS, so the WAL stays as small as before. If
 * the thread cannot start or ends, the writing connection checkpoints by itself again, as it always did.
 */
export function startBackgroundCheckpoints(handle: SQLite.Database, file: string): BackgroundCheckpoints {
  let worker: Worker | undefined;
  const selfCheckpoint = () => {
    worker = undefined;
    try {
      handle.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the connection is closed already
    }
  };
  try {
    worker = startModuleThread(new URL('./checkpoint-thread.ts', import.meta.url), 'checkpoint-thread', { file, everyMs: BACKGROUND_CHECKPOINT_MS },
      'the SQLite checkpoint thread\'s module (dist/cli/checkpoint-thread.js) is not found beside mms: reinstall it');
  } catch {
    return { thread: undefined, nudge: () => false, stop: async () => undefined };
  }
  worker.unref();
  handle.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
  worker.on('error', selfCheckpoint);
  worker.on('exit', selfCheckpoint);
  const send = (m: CheckpointRequest): boolean => {
    worker?.postMessage(m);
    return worker !== undefined;
  };
  return {
    get thread() {
      return worker;
    },
    nudge: () => send('now'),
    stop: async () => {
      const w = worker;
      if (!w) return;
      // The thread ends by itself once it has checkpointed and closed its connection and port; until then it keeps
      // this process alive (it was unref'd so that it never did otherwise).
      const ended = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.ref();
      send('stop');
      await ended;
    },
  };
}
