/**
 * Loading many tree blobs at once. Walking a snapshot one tree at a time costs one round
 * trip per directory, which on S3 (tens of milliseconds each) dominates a restore plan or
 * a check. A TreeLoader lets recursive walkers ask for every child directory at once
 * while keeping at most `concurrency` reads in flight, and shares a read between callers
 * asking for the same tree.
 * @module
 */
import type { BlobId } from '../domain/ids.js';
import type { Repository } from './repository.js';
import type { Tree } from './tree.js';

/** Default reads in flight: enough to hide S3 latency, few enough to be polite. */
export const TREE_CONCURRENCY = 16;

/** A counting semaphore: `run` waits for one of `limit` slots. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`limit must be at least 1, got ${limit}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    }
  }
}

export class TreeLoader {
  private readonly limiter: Limiter;
  private readonly inflight = new Map<BlobId, Promise<Tree>>();

  constructor(
    private readonly repo: Repository,
    concurrency = TREE_CONCURRENCY,
  ) {
    this.limiter = new Limiter(concurrency);
  }

  read(id: BlobId): Promise<Tree> {
    let p = this.inflight.get(id);
    if (!p) {
      p = this.limiter.run(() => this.repo.readTree(id)).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }
}
