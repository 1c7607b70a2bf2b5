/**
 * Retry schedule for transient failures: exponential from `baseMs`, doubled each attempt (up to `capMs` when
 * given), with ±20 % jitter so that many requests failing together do not come back together. With the defaults
 * (340 s, 9 attempts: 8 waits of 340 s · 2^k, 255 × 340 s in all) the attempts span about 24 hours, as the
 * reference service's do.
 */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseMs: number;
  /** Longest wait between two attempts (before jitter); none when absent. */
  readonly capMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 9, baseMs: 340_000 });

/** Delay before attempt `retryCount + 1` (retryCount = attempts already failed, from 1). */
export function retryDelay(policy: RetryPolicy, retryCount: number, random: () => number = Math.random): number {
  const exact = Math.min(policy.baseMs * 2 ** Math.max(0, retryCount - 1), policy.capMs ?? Number.POSITIVE_INFINITY);
  return Math.round(exact * (0.8 + 0.4 * random()));
}
