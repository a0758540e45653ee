/**
 * Bounds what a Storage asks of the network: at most `maxConcurrent` requests in flight, and
 * optionally an average upload rate (a token bucket in bytes per second), so a backup on an
 * office uplink leaves room for everyone else.
 *
 * Bodies are whole buffers handed to the backend, so the rate is kept across objects, not
 * within one: a put waits until the bucket is out of debt, then spends its whole size at once
 * (possibly going into debt), which the next put pays for by waiting. The first upload never
 * waits, and the long-run average is the configured rate.
 * @module
 */
import { Semaphore } from '../util/semaphore.js';
import { bodySize, type ObjectInfo, type Retention, type Storage } from './storage.js';

export interface LimiterOptions {
  /** Requests in flight at once (each list page counts as one). */
  readonly maxConcurrent: number;
  /** Average upload rate; unlimited when absent. */
  readonly uploadBytesPerSecond?: number;
  /** Bytes that may go up in a burst after an idle period. Default: one second's worth. */
  readonly burstBytes?: number;
  /** Injectable for tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function withLimits(inner: Storage, opts: LimiterOptions): Storage {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const slots = new Semaphore(Math.max(1, opts.maxConcurrent));
  const rate = opts.uploadBytesPerSecond;
  const bucket = rate ? new TokenBucket(rate, opts.burstBytes ?? rate, opts.now ?? Date.now, sleep) : undefined;
  const limited = <T>(fn: () => Promise<T>) => slots.run(fn);

  async function* list(prefix: string): AsyncIterable<ObjectInfo> {
    const it = inner.list(prefix)[Symbol.asyncIterator]();
    try {
      for (;;) {
        // Holding a slot only while waiting for the next item: that is when a page is fetched.
        const next = await limited(() => it.next());
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await it.return?.();
    }
  }

  const { objectLock, extendRetention, retention, spoolDir } = inner;
  return {
    get location() {
      return inner.location;
    },
    get capabilities() {
      return inner.capabilities;
    },
    put: async (key, body, putOpts) => {
      await bucket?.spend(bodySize(body)); // before taking a slot, so waiting does not block reads
      return limited(() => inner.put(key, body, putOpts));
    },
    get: (key) => limited(() => inner.get(key)),
    getRange: (key, offset, length, into) => limited(() => inner.getRange(key, offset, length, into)),
    stat: (key) => limited(() => inner.stat(key)),
    list,
    delete: (key) => limited(() => inner.delete(key)),
    close: () => inner.close(),
    ...(spoolDir && { spoolDir: () => spoolDir.call(inner) }),
    ...(objectLock && { objectLock: () => limited(() => objectLock.call(inner)) }),
    ...(extendRetention && {
      extendRetention: (key: string, r: Retention) => limited(() => extendRetention.call(inner, key, r)),
    }),
    ...(retention && { retention: (key: string) => limited(() => retention.call(inner, key)) }),
  };
}

/** Token bucket that may go into debt; callers are served in arrival order. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly capacity: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  spend(bytes: number): Promise<void> {
    const turn = this.queue.then(async () => {
      for (this.refill(); this.tokens < 0; this.refill()) {
        await this.sleep(Math.ceil((-this.tokens / this.bytesPerSecond) * 1000));
      }
      this.tokens -= bytes;
    });
    this.queue = turn;
    return turn;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond);
    this.last = t;
  }
}
