/**
 * Turns consecutive pieces of one file into whole chunks, each its own Buffer (so it can
 * be handed to a worker thread without copying again). Pieces are kept by reference until
 * their chunk is complete, then copied once.
 * @module
 */
import type { FastCdc } from './fastcdc.js';

export class ChunkAssembler {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly cdc: FastCdc) {
    cdc.reset();
  }

  /** Returns the chunks completed by this piece (often none). The piece must not be reused by the caller. */
  push(piece: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let from = 0;
    for (;;) {
      const cut = this.cdc.findCut(piece, from);
      if (cut < 0) break;
      this.pending.push(piece.subarray(from, cut));
      out.push(this.take(this.pendingBytes + cut - from));
      from = cut;
    }
    if (from < piece.length) {
      this.pending.push(piece.subarray(from));
      this.pendingBytes += piece.length - from;
    }
    return out;
  }

  /** The last, possibly short, chunk; undefined when the file ended on a cut (or was empty). */
  end(): Buffer | undefined {
    const chunk = this.pendingBytes > 0 ? this.take(this.pendingBytes) : undefined;
    this.cdc.reset();
    return chunk;
  }

  private take(total: number): Buffer {
    // allocUnsafeSlow: never a slice of Node's shared pool, so its ArrayBuffer can be transferred.
    const chunk = Buffer.allocUnsafeSlow(total);
    let at = 0;
    for (const p of this.pending) {
      chunk.set(p, at);
      at += p.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    return chunk;
  }
}
