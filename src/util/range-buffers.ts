/**
 * Buffers that fetched pack ranges are read into, reused from range to range. A restore reads
 * hundreds of ranges of up to a few MiB; a fresh buffer for each left the main thread's
 * malloc heap as large as all the ranges ever in flight, plus what it could not give back
 * (about 45 MiB of a 150 MiB peak). A range's memory travels to the worker that opens it and
 * comes back with its report (workers/codec-tasks.ts), to be read into again.
 * @module
 */
export class RangeBuffers {
  private readonly free: Buffer[] = [];

  /**
   * @param size the usual size of a buffer (the largest coalesced range); a larger range (one
   *   large blob) gets a buffer of its own size, reused too
   * @param keep how many free buffers are kept at most (the ranges in flight)
   */
  constructor(
    private readonly size: number,
    private readonly keep: number,
  ) {}

  /** A buffer of at least `n` bytes: the smallest free one that holds them, or a new one. */
  take(n: number): Buffer {
    let best = -1;
    this.free.forEach((b, i) => {
      if (b.length >= n && (best < 0 || b.length < this.free[best]!.length)) best = i;
    });
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.max(n, this.size));
  }

  /**
   * Takes back the memory of a range that was read into a buffer of `take` (or into one of its
   * own, when the storage ignored it): the whole underlying buffer, if it is one of ours in size.
   */
  give(range: Uint8Array | undefined): void {
    if (!range || !(range.buffer instanceof ArrayBuffer) || range.buffer.byteLength < this.size) return;
    if (range.buffer.byteLength === Buffer.poolSize) return; // Node's shared slab of small buffers: never ours
    if (this.free.length < this.keep) this.free.push(Buffer.from(range.buffer));
  }
}
