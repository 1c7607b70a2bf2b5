import { sql } from 'kysely';
import type { Db } from './db.js';

/**
 * SQLite checkpoints its write-ahead log into the database file every this many pages (4 MB at 4 KB pages,
 * SQLite's own default). A larger value (it was 10,000 pages, ~40 MB) let the demo load alone grow a 38 MB WAL
 * beside a 10 MB database — more than a small disk holds; frequent small checkpoints cost far less than a full disk.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 1000;

/**
 * `journal_size_limit`: after a checkpoint lets the WAL start over, SQLite cuts the file back to this size instead
 * of keeping its high-water mark for ever. With the checkpoint interval above, the WAL stays under about this size
 * plus one transaction: the headroom MMS needs beside its database.
 */
export const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * A passive checkpoint (SQLite only; PostgreSQL manages its own WAL): copies what it can of the WAL into the
 * database file without waiting for readers or writers, so the next write starts the WAL over (cut back to
 * {@link WAL_SIZE_LIMIT_BYTES}). Called when a migration request ends and after the demo load, where a burst of
 * writes has just ended. PASSIVE on purpose: it takes no lock that another process waits for and never calls the
 * busy handler (a RESTART or TRUNCATE checkpoint waits for every reader and blocks writers meanwhile, which an
 * `mms` command beside the worker would feel; issue 9 §2). SQLite's automatic checkpoints are PASSIVE too. While a
 * checkpoint thread runs for this database (`mms serve`), it is asked to checkpoint now instead.
 */
export async function checkpointWal(db: Db): Promise<void> {
  if (db.dialect !== 'sqlite') return;
  if (backgroundNudges.get(db)?.()) return;
  await sql`pragma wal_checkpoint(PASSIVE)`.execute(db.kysely);
}

/**
 * Databases whose checkpoints a thread of their own runs (background-checkpoints.ts): the thread is asked, and the
 * checkpoint is done here only when it no longer runs (the nudge answers false).
 */
export const backgroundNudges = new WeakMap<Db, () => boolean>();
