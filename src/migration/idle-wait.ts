import type { Db } from '../store/index.js';
import { msUntilRunnable } from '../store/queue-repo.js';

/**
 * How an idle worker waits (issue 13 §1): until the earliest request becomes runnable, but no longer than the poll
 * interval — the fallback, which still claims every `pollMs` as before (that claim also takes back leases of dead
 * processes on this host) — and woken early by a queue-change signal (wake-watch.ts: a trigger in this process,
 * NOTIFY on PostgreSQL, another process's commit on SQLite), after which it reads the queue again and sets its
 * timer anew.
 */
export class IdleWait {
  /** Counts signals: one that comes while the worker claims (not idle yet) is not lost. */
  private seq = 0;
  private early: (() => void) | null = null;

  /** `onSleep` hears of every sleep and its length (the worker logs it at debug level: an idle worker, and when it looks next). */
  constructor(private readonly db: Db, private readonly now: () => number, private readonly pollMs: number, private readonly onSleep?: (ms: number) => void) {}

  /** Whether the worker sleeps now (wake-watch.ts looks at other processes' commits only then). */
  get idle(): boolean {
    return this.early !== null;
  }

  /** The signal count, taken before a claim and handed to {@link sleep}. */
  get mark(): number {
    return this.seq;
  }

  /** The queue may have changed: a sleeping worker reads it again now; a busy one when its claim found nothing. */
  signal(): void {
    this.seq++;
    this.early?.();
  }

  /** Ends a sleep at once (stop()). */
  interrupt(): void {
    this.early?.();
  }

  /**
   * Sleeps after a claim begun at `claimedAt` found nothing, until the next claim is worth making; returns early
   * when `stopping()`. `seen` is {@link mark} from before that claim.
   */
  async sleep(claimedAt: number, seen: number, stopping: () => boolean): Promise<void> {
    const pollAt = claimedAt + this.pollMs;
    let signalled = false;
    while (!stopping()) {
      const now = this.now();
      const wait = await msUntilRunnable(this.db, now);
      let at = pollAt;
      if (wait !== undefined) {
        // Runnable now: claim at once if it became so since the claim (queued, or its wait ended) or a signal
        // came. One runnable already when the claim passed it over is left to the poll: claiming again would spin.
        if (wait <= 0 && (signalled || now + wait > claimedAt)) return;
        if (wait > 0) at = Math.min(at, now + wait);
      }
      if (this.seq !== seen) {
        seen = this.seq;
        signalled = true;
        continue;
      }
      // stop() may have come while the queue was read: its interrupt found no sleep to end, so look again here,
      // where nothing is awaited before the sleep begins (a stop after this point ends the sleep).
      if (stopping()) return;
      const ms = at - this.now();
      if (ms > 0) this.onSleep?.(ms);
      if (!(await this.pause(ms))) return;
      seen = this.seq;
      signalled = true;
    }
  }

  /** Sleeps `ms` unless a signal or interrupt comes first; true when woken early. */
  private pause(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const end = (early: boolean) => {
        clearTimeout(t);
        this.early = null;
        resolve(early);
      };
      const t = setTimeout(() => end(false), ms);
      this.early = () => end(true);
    });
  }
}
