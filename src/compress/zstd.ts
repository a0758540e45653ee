/**
 * zstd compression (zstd-napi; Node 20 has none built in), applied before encryption and
 * only when it pays: already-compressed or encrypted data is stored as it is. zstd runs at
 * 3.5 GB/s on incompressible input (notes/perf-baseline.md, A5), so trying costs little.
 * @module
 */
import { createRequire } from 'node:module';
import type * as Zstd from 'zstd-napi';
import type * as ZstdBinding from 'zstd-napi/binding.js';

// require(), not import: zstd-napi is CommonJS, and the ESM loader takes twice as long to
// load it (~20 ms against ~10), in the main thread and in every worker.
const require = createRequire(import.meta.url);
const { Compressor, Decompressor } = require('zstd-napi') as typeof Zstd;
type Compressor = Zstd.Compressor;
type Decompressor = Zstd.Decompressor;
// the native binding's decompression context: decompresses into a buffer the caller owns
const binding = require('zstd-napi/binding.js') as typeof ZstdBinding;

export interface Compression {
  /** zstd level; 0 disables compression. */
  readonly level: number;
}

/** Compression must save at least 1/32 of the input (about 3 %) to be kept. */
const MIN_SAVING_SHIFT = 5;
/**
 * Inputs of at least this size are probed first: a few samples spread over the input are
 * compressed, and if none of them saves even 1/64, the input is taken to be compressed or
 * encrypted already and is stored as it is without compressing all of it. On random data
 * zstd still costs about 1 ms per MiB; the probe costs a few percent of that. Text, even
 * high-entropy CSV, saves 30 % or more in every sample. What a probe can miss is long-range
 * repetition inside otherwise random data; such data is stored uncompressed, never wrongly.
 */
const PROBE_MIN_BYTES = 64 * 1024;
const PROBE_SAMPLES = 4;
const PROBE_SAMPLE_BYTES = 8 * 1024;
const PROBE_SAVING_SHIFT = 6;
export const FLAG_NONE = 0;
export const FLAG_ZSTD = 1;

// One native context per level and thread, reused: creating a context per call is slow.
const compressors = new Map<number, Compressor>();
let decompressor: Decompressor | undefined;
let dctx: InstanceType<typeof binding.DCtx> | undefined;

export function compressIfWorthIt(input: Uint8Array, level: number): { flag: number; bytes: Uint8Array } {
  if (input.length < 64) return { flag: FLAG_NONE, bytes: input };
  let c = compressors.get(level);
  if (!c) {
    c = new Compressor();
    c.setParameters({ compressionLevel: level });
    compressors.set(level, c);
  }
  if (input.length >= PROBE_MIN_BYTES && !samplesCompress(c, input)) return { flag: FLAG_NONE, bytes: input };
  const out = c.compress(input);
  if (out.length > input.length - (input.length >> MIN_SAVING_SHIFT)) return { flag: FLAG_NONE, bytes: input };
  return { flag: FLAG_ZSTD, bytes: out };
}

function samplesCompress(c: Compressor, input: Uint8Array): boolean {
  const stride = Math.floor((input.length - PROBE_SAMPLE_BYTES) / (PROBE_SAMPLES - 1));
  for (let i = 0; i < PROBE_SAMPLES; i++) {
    const sample = input.subarray(i * stride, i * stride + PROBE_SAMPLE_BYTES);
    if (c.compress(sample).length <= sample.length - (sample.length >> PROBE_SAVING_SHIFT)) return true;
  }
  return false;
}

export function decompress(input: Uint8Array): Buffer {
  decompressor ??= new Decompressor();
  return decompressor.decompress(input);
}

/**
 * Decompresses into `out` and returns the bytes produced (a view of `out`). A frame that
 * would produce more than `out` holds is an error, never a larger allocation: the caller
 * sizes `out` from the length it expects.
 */
export function decompressInto(input: Uint8Array, out: Buffer): Buffer {
  dctx ??= new binding.DCtx();
  return out.subarray(0, dctx.decompress(out, input));
}
