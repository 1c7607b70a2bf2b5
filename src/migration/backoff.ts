import { isDiskFull } from '../store/disk-full.js';
import { RetryLater } from '../domain/errors.js';
import { retryDelay, type RetryPolicy } from '../domain/retry.js';

export { DEFAULT_RETRY, retryDelay, type RetryPolicy } from '../domain/retry.js';

/**
 * A full disk (SQLITE_FULL, PostgreSQL 53100) is local and is usually fixed within minutes by whoever frees space:
 * 15 s doubling up to 4 min, instead of the 340 s · 2^k meant for remote failures (which would leave the work
 * waiting hours after the space came back). With MMS_RETRY_ATTEMPTS 9 the attempts span about 20 minutes.
 */
export const DISK_FULL_RETRY: Omit<RetryPolicy, 'maxAttempts'> = Object.freeze({ baseMs: 15_000, capMs: 240_000 });

/** The schedule for a failure: the disk-full one for a full disk, else `policy` (attempt limit always `policy`'s). */
export function retryPolicyFor(err: unknown, policy: RetryPolicy): RetryPolicy {
  return isDiskFull(err) ? { maxAttempts: policy.maxAttempts, ...DISK_FULL_RETRY } : policy;
}

/** When the next attempt may run: the schedule's delay, but never before a server's Retry-After. */
export function nextAttemptAt(err: unknown, policy: RetryPolicy, retryCount: number, now: number, random?: () => number): number {
  const scheduled = retryDelay(retryPolicyFor(err, policy), retryCount, random);
  return now + Math.max(scheduled, err instanceof RetryLater ? err.retryAfterMs : 0);
}
