/**
 * Events per device per minute (issue 11 §4), a token bucket per tenant and DeviceId held in this process: a client
 * stuck in a loop fills its own bucket, not the database. A refill that reaches the full bucket forgets the device,
 * so idle devices cost no memory; the map is also capped (the fullest buckets go first).
 */
export class DeviceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number, private readonly now: () => number, private readonly maxDevices = 100_000) {}

  /** Takes one event's token for the device; false when its bucket is empty. */
  take(tenantId: string, deviceId: string): boolean {
    const key = `${tenantId}\u0000${deviceId.toLowerCase()}`;
    const now = this.now();
    const b = this.buckets.get(key);
    let tokens = this.perMinute;
    if (b) tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    if (tokens < 1) {
      if (b) b.at = now, b.tokens = tokens;
      return false;
    }
    if (!b && this.buckets.size >= this.maxDevices) this.forgetFull(now);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return true;
  }

  private forgetFull(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.perMinute) / 60_000 >= this.perMinute) this.buckets.delete(k);
    }
    // Still full: drop the oldest entries (Map keeps insertion order).
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < this.maxDevices) break;
      this.buckets.delete(k);
    }
  }
}
