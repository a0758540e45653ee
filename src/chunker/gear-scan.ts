/**
 * The chunker's hot loop: find where the gear hash, carried byte by byte, first has none of
 * the mask's bits set. It runs in WebAssembly (gear-scan.wat): V8 runs the same loop at about
 * 1.5 GB/s there against 0.7 GB/s in JavaScript, whose typed-array reads are each
 * bounds-checked, and within a backup it was the largest cost after compression and hashing
 * (notes in docs/benchmarks.md). The input is copied into the module's memory a piece at a
 * time, which costs a tenth of what the scan saves.
 *
 * The JavaScript loop stays as the fallback where WebAssembly is missing (`node --jitless`),
 * and as the definition the tests hold the module to.
 * @module
 */
import { GEAR_SCAN_WASM } from './gear-scan-wasm.js';

export interface GearScanner {
  /**
   * The first position p in buf[from, to) where h = ((h << 1) + G[buf[p]]) | 0, carried from
   * `h` on, has no bit of `mask` set; or -1, and the hash at `to` is then in `hash`.
   */
  scan(buf: Uint8Array, from: number, to: number, h: number, mask: number): number;
  /** The hash where the last scan stopped without a cut. */
  readonly hash: number;
}

/** The gear table's place in the module's memory, and the input's after it (see the .wat). */
const TABLE_BYTES = 256 * 4;
/** The most of the input one call into the module scans. */
const PIECE = 64 * 1024;

/** The part of the WebAssembly API used here (the types of node 20 do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule) => { readonly exports: unknown };
}
type WasmModule = { readonly kind: 'compiled gear-scan.wat' };

interface GearScanExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  readonly hash: { readonly value: number };
  scan(from: number, to: number, h: number, mask: number): number;
}

class WasmGearScanner implements GearScanner {
  private readonly exports: GearScanExports;
  private readonly memory: Uint8Array;
  hash = 0;

  constructor(wasm: WasmApi, module: WasmModule, table: Int32Array) {
    this.exports = new wasm.Instance(module).exports as GearScanExports;
    // The memory never grows (its maximum is its size), so this view stays valid.
    this.memory = new Uint8Array(this.exports.memory.buffer);
    const words = new DataView(this.exports.memory.buffer, 0, TABLE_BYTES);
    for (let i = 0; i < 256; i++) words.setInt32(i * 4, table[i]!, true);
  }

  scan(buf: Uint8Array, from: number, to: number, h: number, mask: number): number {
    for (let i = from; i < to; ) {
      const end = Math.min(to, i + PIECE);
      this.memory.set(buf.subarray(i, end), TABLE_BYTES);
      const at = this.exports.scan(TABLE_BYTES, TABLE_BYTES + end - i, h, mask);
      if (at >= 0) return i + at - TABLE_BYTES;
      h = this.exports.hash.value;
      i = end;
    }
    this.hash = h;
    return -1;
  }
}

/** The definition, in JavaScript: the fallback, and what the tests compare the module with. */
export class JsGearScanner implements GearScanner {
  hash = 0;

  constructor(private readonly G: Int32Array) {}

  scan(buf: Uint8Array, from: number, to: number, h: number, mask: number): number {
    const G = this.G;
    for (let i = from; i < to; i++) {
      h = ((h << 1) + G[buf[i]!]!) | 0;
      if ((h & mask) === 0) return i;
    }
    this.hash = h;
    return -1;
  }
}

// Without WebAssembly (node --jitless) the global is missing: the JavaScript loop serves.
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: WasmModule | undefined;

/** One scanner per gear table and thread: each holds its table in its own module instance. */
const scanners = new WeakMap<Int32Array, GearScanner>();

export function gearScanner(table: Int32Array): GearScanner {
  let s = scanners.get(table);
  if (!s) {
    if (wasm) compiled ??= new wasm.Module(Buffer.from(GEAR_SCAN_WASM, 'base64'));
    s = wasm && compiled ? new WasmGearScanner(wasm, compiled, table) : new JsGearScanner(table);
    scanners.set(table, s);
  }
  return s;
}
