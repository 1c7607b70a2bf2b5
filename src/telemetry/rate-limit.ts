/**
 * Events per minute (issue 11 §4), token buckets held in this process: per tenant and DeviceId, so that a client
 * stuck in a loop fills its own bucket, not the database; and, because a DeviceId is whatever the client says it is
 * (one that makes up a new one per event would never run dry), per client IP address and per ingestion key too. A
 * refill that reaches the full bucket forgets the key, so idle devices cost no memory; the map is also capped (the
 * fullest buckets go first).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly perMinute: number, private readonly now: () => number, private readonly maxKeys = 100_000) {}

  /** Takes up to `n` tokens from `key`'s bucket; how many it got (0 when the bucket is empty). */
  takeUpTo(key: string, n: number): number {
    if (n <= 0) return 0;
    const now = this.now();
    const b = this.buckets.get(key);
    let tokens = this.perMinute;
    // A clock set back (NTP) refills nothing rather than emptying the bucket.
    if (b) tokens = Math.min(this.perMinute, b.tokens + (Math.max(0, now - b.at) * this.perMinute) / 60_000);
    const got = Math.min(n, Math.floor(tokens));
    if (!b && this.buckets.size >= this.maxKeys) this.forgetFull(now);
    if (b) {
      b.tokens = tokens - got;
      b.at = now;
    } else this.buckets.set(key, { tokens: tokens - got, at: now });
    return got;
  }

  /** Takes one token; false when the bucket is empty. */
  take(key: string): boolean {
    return this.takeUpTo(key, 1) === 1;
  }

  /** Gives back tokens taken but not used (events refused for another reason), up to a full bucket. */
  giveBack(key: string, n: number): void {
    const b = this.buckets.get(key);
    if (b && n > 0) b.tokens = Math.min(this.perMinute, b.tokens + n);
  }

  private forgetFull(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.perMinute) / 60_000 >= this.perMinute) this.buckets.delete(k);
    }
    // Still full: drop the oldest entries (Map keeps insertion order).
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(k);
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
