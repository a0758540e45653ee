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
const { Decompressor } = require('zstd-napi') as typeof Zstd;
type Decompressor = Zstd.Decompressor;
// The package's documented low-level module: its contexts compress and decompress into
// buffers the caller owns, where the high-level classes allocate a result per call.
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
const contexts = new Map<number, ZstdBinding.CCtx>();
let probeOut: Buffer | undefined;
let decompressor: Decompressor | undefined;
let dctx: InstanceType<typeof binding.DCtx> | undefined;

function context(level: number): ZstdBinding.CCtx {
  let c = contexts.get(level);
  if (!c) {
    c = new binding.CCtx();
    c.setParameter(binding.CParameter.compressionLevel, level);
    contexts.set(level, c);
  }
  return c;
}

/** The most bytes compressing `n` bytes can take (the room `compressInto` needs). */
export function compressBound(n: number): number {
  return binding.compressBound(n);
}

/**
 * Compresses `input` into `out` (at least compressBound(input.length) bytes) if that pays;
 * returns the compressed length, or -1 when the input is to be stored as it is.
 */
export function compressInto(out: Uint8Array, input: Uint8Array, level: number): number {
  if (input.length < 64) return -1;
  const c = context(level);
  if (input.length >= PROBE_MIN_BYTES && !samplesCompress(c, input)) return -1;
  const n = c.compress2(out, input);
  return n > input.length - (input.length >> MIN_SAVING_SHIFT) ? -1 : n;
}

export function compressIfWorthIt(input: Uint8Array, level: number): { flag: number; bytes: Uint8Array } {
  if (input.length < 64) return { flag: FLAG_NONE, bytes: input };
  const out = Buffer.allocUnsafe(compressBound(input.length));
  const n = compressInto(out, input, level);
  return n < 0 ? { flag: FLAG_NONE, bytes: input } : { flag: FLAG_ZSTD, bytes: out.subarray(0, n) };
}

function samplesCompress(c: ZstdBinding.CCtx, input: Uint8Array): boolean {
  probeOut ??= Buffer.allocUnsafeSlow(compressBound(PROBE_SAMPLE_BYTES));
  const stride = Math.floor((input.length - PROBE_SAMPLE_BYTES) / (PROBE_SAMPLES - 1));
  for (let i = 0; i < PROBE_SAMPLES; i++) {
    const sample = input.subarray(i * stride, i * stride + PROBE_SAMPLE_BYTES);
    if (c.compress2(probeOut, sample) <= sample.length - (sample.length >> PROBE_SAVING_SHIFT)) return true;
  }
  return false;
}

/** A body that cannot be unflagged: its flag is unknown, or its frame does not decompress. */
export class CorruptPayload extends Error {}

/**
 * The payload of a body that starts with its compression flag, as sealed objects and blobs
 * hold it: a view of the bytes after the flag, or their decompression, into the buffer
 * `into` gives when it is given (decompressInto: a frame larger than it is an error).
 */
export function unflagged(body: Buffer, into?: () => Buffer): Buffer {
  const flag = body[0];
  const bytes = body.subarray(1);
  if (flag === FLAG_NONE) return bytes;
  if (flag !== FLAG_ZSTD) throw new CorruptPayload(`unknown compression flag ${String(flag)}`);
  try {
    return into ? decompressInto(bytes, into()) : decompress(bytes);
  } catch (e) {
    throw new CorruptPayload(`cannot decompress: ${(e as Error).message}`);
  }
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
