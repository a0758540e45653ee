/**
 * Cutting a file into chunks inside one reusable buffer: the caller reads into `room()`,
 * reports how much it read with `commit`, and gets the chunks that read completed, as views
 * of the buffer. Nothing is allocated per read or per chunk; a chunk is copied only when the
 * unfinished one is moved to the front to make room (it is shorter than the largest chunk).
 * The views stay valid until the next `room()`.
 *
 * The buffer grows up to the largest chunk plus one read (for a smaller file, its size plus
 * one byte, to see its end without another read), and one buffer per thread is kept for the
 * next file: allocating a large buffer per file left the workers' memory fragmented, and
 * the process grew with the number of files.
 * @module
 */
import type { FastCdc } from './fastcdc.js';

/** A buffer a finished window left behind, for the next file this thread reads. */
let spare: Buffer | undefined;

export class ChunkWindow {
  private buf: Buffer;
  /** the most the buffer ever needs: the largest chunk plus one read, or the file plus one byte */
  private readonly capacity: number;
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
    this.capacity = Math.min(cdc.maxSize + readBytes, expectedSize + 1);
    // Most chunks are near the average size: start with room for a few reads and grow only
    // for a long chunk. A file of more than one read gets four reads' worth whatever its size,
    // and the buffer left by the previous file is reused when it is large enough, even when it
    // is larger than this file needs: a buffer sized to each file in turn left the workers'
    // memory full of dead ones (about 13 MiB per thread).
    const initial = this.capacity <= readBytes ? this.capacity : 4 * readBytes;
    if (spare && spare.length >= Math.min(initial, this.capacity)) {
      this.buf = spare;
      spare = undefined;
    } else {
      this.buf = Buffer.allocUnsafeSlow(initial);
    }
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
    if (this.buf.length - this.end < wanted && this.buf.length < this.capacity) {
      const grown = Buffer.allocUnsafeSlow(Math.min(this.capacity, Math.max(2 * this.buf.length, this.end + wanted)));
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
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

  /** The file is done and its chunks are stored: the buffer may serve the next file. */
  release(): void {
    if (!spare || spare.length < this.buf.length) spare = this.buf;
  }
}
