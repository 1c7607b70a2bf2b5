// The sign-in rate limit (issue 10 §2): after MAX_FAILURES failed sign-ins within WINDOW_MS from one client address
// (whatever names it tried), or MAX_FAILURES_PER_USER for one user name from all addresses together, further attempts
// are answered 429 with Retry-After until the oldest failure leaves the window (OWASP Authentication cheat sheet:
// throttle per source and per account). The per-name limit is ten times higher on purpose: at 5 anyone could lock
// the `admin` account out by failing 5 times from anywhere; at 50 one address cannot (it meets its own limit after
// 5), and the slow guessing the limit exists against stays slow (50 guesses in 15 minutes at most, from 10 or more
// addresses). In memory, per process: a restart forgets the counts, and several `mms serve` behind one balancer
// each count their own (documented in the README).
export const MAX_FAILURES = 5;
export const MAX_FAILURES_PER_USER = 50;
export const WINDOW_MS = 15 * 60_000;
/** Past this many tracked keys, keys with no failure inside the window are dropped (bounds memory under a spray). */
const PRUNE_ABOVE = 10_000;

export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  /** Milliseconds until an attempt with these keys is allowed again; 0 when it is allowed now. */
  waitMs(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const list = this.recent(key, now);
      const max = key.startsWith('user:') ? MAX_FAILURES_PER_USER : MAX_FAILURES;
      if (list.length >= max) wait = Math.max(wait, list[list.length - max]! + WINDOW_MS - now);
    }
    return wait;
  }

  fail(keys: readonly string[], now: number): void {
    for (const key of keys) this.failures.set(key, [...this.recent(key, now), now]);
    if (this.failures.size > PRUNE_ABOVE) for (const key of [...this.failures.keys()]) this.recent(key, now);
  }

  /**
   * A successful sign-in: the attempt counted at `at` (attempts count as failures from before their password is
   * checked, so a burst of parallel guesses meets the limit) is taken back for the address, and the user name's
   * count is cleared (not the address's: one address may try many names).
   */
  succeed(keys: readonly [string, string], at: number): void {
    this.failures.delete(keys[0]);
    const list = this.failures.get(keys[1]);
    const i = list?.lastIndexOf(at) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }
}

export function limitKeys(userName: string, address: string): [string, string] {
  return [`user:${userName.trim().toLowerCase()}`, `ip:${address}`];
}
