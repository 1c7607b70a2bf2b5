/**
 * At most `max` tasks at once, the rest wait in order: a host's MaxConcurrency caps what MMS asks of one server
 * however many workers or users share it in this process.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** The most tasks seen running at once (tests check the cap holds). */
  peak = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`a concurrency limit must be a whole number, 1 or more (got ${max})`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` never drops and rises again around it.
      if (next) next();
      else this.active--;
    }
  }
}

const shared = new Map<string, Limiter>();

/**
 * The process's one limiter for a host: every client of that host (every user, every worker loop) shares it, so
 * MaxConcurrency is a cap on the server's load from this process. A changed limit starts a new limiter.
 */
export function limiterFor(hostKey: string, max: number): Limiter {
  const l = shared.get(hostKey);
  if (l && l.max === max) return l;
  const fresh = new Limiter(max);
  shared.set(hostKey, fresh);
  return fresh;
}
