interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Events per minute (issue 11 §4), token buckets held in this process: per tenant and DeviceId, so that a client
 * stuck in a loop fills its own bucket, not the database; and, because a DeviceId is whatever the client says it is
 * (one that makes up a new one per event would never run dry), per client IP address and per ingestion key too. A
 * refill that reaches the full bucket forgets the key, so idle devices cost no memory; the map is also capped (the
 * fullest buckets go first).
 */
export class RateLimiter {
  /**
   * Buckets by scope ('' for none), then key: a device's bucket is found by its tenant and its DeviceId, so no key
   * string is made per event (joining the two was most of the cost of a take: the bench's profile).
   */
  private readonly scopes = new Map<string, Map<string, Bucket>>();
  private size = 0;

  constructor(readonly perMinute: number, private readonly now: () => number, private readonly maxKeys = 100_000) {}

  /**
   * Takes up to `n` tokens from the bucket of `key` in `scope`; how many it got (0 when the bucket is empty). `now`:
   * the clock read once for a whole batch of takes.
   */
  takeUpTo(key: string, n: number, now = this.now(), scope = ''): number {
    if (n <= 0) return 0;
    let buckets = this.scopes.get(scope);
    const b = buckets?.get(key);
    let tokens = this.perMinute;
    // A clock set back (NTP) refills nothing rather than emptying the bucket.
    if (b) tokens = Math.min(this.perMinute, b.tokens + (Math.max(0, now - b.at) * this.perMinute) / 60_000);
    const got = Math.min(n, Math.floor(tokens));
    if (b) {
      b.tokens = tokens - got;
      b.at = now;
      return got;
    }
    if (this.size >= this.maxKeys) {
      this.forgetFull(now);
      buckets = this.scopes.get(scope);
    }
    if (!buckets) this.scopes.set(scope, (buckets = new Map()));
    buckets.set(key, { tokens: tokens - got, at: now });
    this.size++;
    return got;
  }

  /** Takes one token; false when the bucket is empty. */
  take(key: string, now = this.now(), scope = ''): boolean {
    return this.takeUpTo(key, 1, now, scope) === 1;
  }

  /** Gives back tokens taken but not used (events refused for another reason), up to a full bucket. */
  giveBack(key: string, n: number, scope = ''): void {
    const b = this.scopes.get(scope)?.get(key);
    if (b && n > 0) b.tokens = Math.min(this.perMinute, b.tokens + n);
  }

  private forgetFull(now: number): void {
    for (const [scope, buckets] of this.scopes) {
      for (const [k, b] of buckets) {
        if (b.tokens + ((now - b.at) * this.perMinute) / 60_000 >= this.perMinute) {
          buckets.delete(k);
          this.size--;
        }
      }
      if (!buckets.size) this.scopes.delete(scope);
    }
    // Still full: drop the oldest entries (each Map keeps insertion order; the scopes in the order they came).
    for (const [scope, buckets] of this.scopes) {
      for (const k of buckets.keys()) {
        if (this.size < this.maxKeys) return;
        buckets.delete(k);
        this.size--;
      }
      this.scopes.delete(scope);
    }
  }
}

/** Events per minute: per device, per client IP address, per ingestion key (tenant). */
export interface TelemetryRates {
  readonly perDevicePerMinute: number;
  readonly perIpPerMinute: number;
  readonly perKeyPerMinute: number;
}

/**
 * The defaults. A device sends a few batches an hour; one address may be a whole office behind NAT (100 devices at
 * their full allowance); one key is every client of the tenant, capped so that a leaked key cannot fill the disk
 * faster than retention empties it.
 */
export const DEFAULT_TELEMETRY_RATES: TelemetryRates = Object.freeze({ perDevicePerMinute: 600, perIpPerMinute: 60_000, perKeyPerMinute: 600_000 });

/** The three limiters one service holds. */
export class TelemetryLimiters {
  readonly device: RateLimiter;
  readonly ip: RateLimiter;
  readonly key: RateLimiter;

  constructor(rates: TelemetryRates, now: () => number) {
    this.device = new RateLimiter(rates.perDevicePerMinute, now);
    this.ip = new RateLimiter(rates.perIpPerMinute, now);
    this.key = new RateLimiter(rates.perKeyPerMinute, now, 10_000);
  }
}
