/**
 * Cutting a file into chunks inside one reusable buffer: the caller reads into `room()`,
 * reports how much it read with `commit`, and gets the chunks that read completed, as views
 * of the buffer. Nothing is allocated per read or per chunk; a chunk is copied only when the
 * unfinished one is moved to the front to make room (it is shorter than the largest chunk).
 * The views stay valid until the next `room()`.
 *
 * The buffer holds the largest chunk plus one read; for a smaller file, its size plus one
 * byte (to see its end without another read).
 * @module
 */
import type { FastCdc } from './fastcdc.js';

export class ChunkWindow {
  private readonly buf: Buffer;
  /** where the chunk being cut begins */
  private start = 0;
  /** bytes in the buffer */
  private end = 0;
  /** how far the chunker has looked */
  private scanned = 0;

  /**
   * @param readBytes the most one read asks for
   * @param expectedSize the file's size as seen before reading (it may change while read)
   */
  constructor(
    private readonly cdc: FastCdc,
    private readonly readBytes: number,
    private readonly expectedSize: number,
  ) {
    cdc.reset();
    this.buf = Buffer.allocUnsafeSlow(Math.min(cdc.maxSize + readBytes, expectedSize + 1));
  }

  /** Where the next read goes (empty when the buffer is full: the file grew past its size). */
  room(readSoFar: number): Buffer {
    const wanted = Math.min(this.readBytes, Math.max(1, this.expectedSize + 1 - readSoFar));
    if (this.buf.length - this.end < wanted && this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.scanned -= this.start;
      this.start = 0;
    }
    return this.buf.subarray(this.end, this.end + Math.min(this.readBytes, this.buf.length - this.end));
  }

  /** `n` bytes were read into `room()`; at the end of the file the last chunk is included. */
  commit(n: number, eof: boolean): Buffer[] {
    this.end += n;
    const chunks: Buffer[] = [];
    for (;;) {
      const cut = this.cdc.findCut(this.buf.subarray(0, this.end), this.scanned);
      if (cut < 0) break;
      chunks.push(this.buf.subarray(this.start, cut));
      this.start = this.scanned = cut;
    }
    this.scanned = this.end;
    if (eof && this.end > this.start) {
      chunks.push(this.buf.subarray(this.start, this.end));
      this.start = this.end;
    }
    return chunks;
  }
}
