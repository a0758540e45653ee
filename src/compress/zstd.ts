/**
 * zstd compression (zstd-napi; Node 20 has none built in), applied before encryption and
 * only when it pays: already-compressed or encrypted data is stored as it is. zstd runs at
 * 3.5 GB/s on incompressible input (notes/perf-baseline.md, A5), so trying costs little.
 * @module
 */
import { Compressor, Decompressor } from 'zstd-napi';

export interface Compression {
  /** zstd level; 0 disables compression. */
  readonly level: number;
}

/** Compression must save at least 1/32 of the input (about 3 %) to be kept. */
const MIN_SAVING_SHIFT = 5;
export const FLAG_NONE = 0;
export const FLAG_ZSTD = 1;

// One native context per level and thread, reused: creating a context per call is slow.
const compressors = new Map<number, Compressor>();
let decompressor: Decompressor | undefined;

export function compressIfWorthIt(input: Uint8Array, level: number): { flag: number; bytes: Uint8Array } {
  if (input.length < 64) return { flag: FLAG_NONE, bytes: input };
  let c = compressors.get(level);
  if (!c) {
    c = new Compressor();
    c.setParameters({ compressionLevel: level });
    compressors.set(level, c);
  }
  const out = c.compress(input);
  if (out.length > input.length - (input.length >> MIN_SAVING_SHIFT)) return { flag: FLAG_NONE, bytes: input };
  return { flag: FLAG_ZSTD, bytes: out };
}

export function decompress(input: Uint8Array): Buffer {
  decompressor ??= new Decompressor();
  return decompressor.decompress(input);
}
