import type { Logger } from '../domain/logger.js';
import { dataVersionOf, pgSettingsOf, type Db } from './db.js';
import { QueueListener } from './wake-listener.js';
import { onLocalQueueChange } from './wake-signal.js';

/** What tells an idle worker that the queue changed; close() ends it (and the LISTEN connection). */
export interface QueueWatch {
  close(): Promise<void>;
}

/**
 * How often an idle worker on SQLite asks `PRAGMA data_version` whether another process committed (the `mms`
 * command beside the service). It reads a counter in shared memory — no lock, no disk — so a short period costs
 * next to nothing, and a trigger from the CLI is seen well within its MMS_MIGRATION_DELAY.
 */
export const DATA_VERSION_MS = 50;

/**
 * Calls `onChange` when the migration queue may have changed, so that an idle worker reads it again at once
 * instead of at its next poll:
 * - a trigger committed in this process (REST API, admin center in `mms serve`): always (wake-signal.ts);
 * - PostgreSQL: a trigger committed by any process, through LISTEN on a connection of its own (wake-listener.ts),
 *   which falls back to the worker's polling with one log line while it cannot listen;
 * - SQLite: a commit by another process, seen by `PRAGMA data_version` every DATA_VERSION_MS while `isIdle()` —
 *   any write, not only triggers; the worker then reads the queue (one indexed read) and sleeps again.
 * The worker keeps polling every `pollMs` whatever this says: it is the fallback for what no signal covers (a
 * request written by something other than MMS's own code). A lease that expires needs no signal: the idle worker's
 * timer is set to the earliest expiry (msUntilRunnable).
 */
export function watchQueue(db: Db, opts: { logger: Logger; onChange: () => void; pollMs: number; isIdle: () => boolean }): QueueWatch {
  const offLocal = onLocalQueueChange(opts.onChange);
  const settings = pgSettingsOf(db);
  let listener: QueueListener | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (settings) {
    listener = new QueueListener(db, settings, { logger: opts.logger, onChange: opts.onChange, pollMs: opts.pollMs });
    listener.start();
  } else {
    const dataVersion = dataVersionOf(db);
    if (dataVersion) {
      // Read now and then only while idle: a commit that came while the worker was busy, or just before its first
      // look, still differs from the last value seen, and wakes it at the next look (at worst one read for nothing).
      let seen = dataVersion();
      timer = setInterval(() => {
        if (!opts.isIdle()) return;
        let v: number;
        try {
          v = dataVersion();
        } catch {
          return; // closed meanwhile: the worker is stopping
        }
        if (v !== seen) opts.onChange();
        seen = v;
      }, Math.min(DATA_VERSION_MS, opts.pollMs));
      timer.unref();
    }
  }
  return {
    async close() {
      offLocal();
      clearInterval(timer);
      await listener?.close();
    },
  };
}
