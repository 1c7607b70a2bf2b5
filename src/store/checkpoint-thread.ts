// The SQLite checkpoint thread (background-checkpoints.ts): its own connection to the database file, which copies
// the write-ahead log into the database (a PASSIVE checkpoint) every `everyMs` and when asked, so that the fsyncs a
// checkpoint needs happen here and not on the thread that writes. Asked to stop, it checkpoints once more, closes
// its connection and its port, and ends. It never writes rows and never throws: a failed checkpoint is tried again
// next time.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

/** What the main side sends: checkpoint now, or stop. */
export type CheckpointRequest = 'now' | 'stop';

const { file, everyMs } = workerData as { file: string; everyMs: number };
const db = new SQLite(file, { fileMustExist: true });
const checkpoint = () => {
  try {
    // PASSIVE: copies what no reader still needs, waits for no one, takes no lock another connection waits on.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Another connection's checkpoint was running (SQLITE_BUSY), or the disk refused: the next tick tries again.
  }
};
const timer = setInterval(checkpoint, everyMs);
parentPort?.on('message', (m: CheckpointRequest) => {
  if (m === 'now') return checkpoint();
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort?.close();
});
