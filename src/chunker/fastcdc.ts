/**
 * Content-defined chunking: FastCDC with normalized chunking (level 2) over a 32-bit gear
 * hash whose 256-entry table is derived from a per-repository secret seed.
 *
 * Why keyed and why that is not the whole story: a public gear table lets anyone predict
 * cut points and fingerprint known files from chunk sizes. A secret table helps, but 2025
 * papers (IACR eprint 2025/558, 2025/532) recover it from observed chunk sizes of known
 * data. Coffre therefore also never lets chunk sizes be observed: blobs sit inside packs
 * whose headers are encrypted and whose sizes are padded (see src/repository/pack.ts).
 *
 * The loop is written for V8: an Int32Array table, local variables, `| 0` arithmetic, a
 * function of its own (see gearScan), and the first `minSize` bytes of each chunk skipped unhashed (about 1 GB/s here,
 * notes/perf-baseline.md A4). Cut decisions use the high bits of the hash, which depend
 * on the last 32 input bytes.
 * @module
 */
import { hkdfSync } from 'node:crypto';

export interface ChunkSizes {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
}

/** Derives the secret gear table from the repository's chunker seed. */
export function gearTable(seed: Uint8Array): Int32Array {
  const bytes = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), 'coffre/v1/fastcdc-gear32', 1024));
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = bytes.readInt32LE(i * 4);
  return table;
}

/** The hash where the last `gearScan` stopped without a cut. */
let scanHash = 0;

/**
 * The hot loop, alone in a small function: the first position in buf[from, to) where the
 * gear hash masked by `mask` is zero, or -1 (and the hash so far in `scanHash`). Written
 * inside findCut, the loop was compiled on-stack and thrown away again each time the code
 * around it first ran (V8: "insufficient type feedback"), so that a short backup spent most
 * of its chunking time in unoptimized code: 0.2 GB/s instead of 1.
 */
function gearScan(G: Int32Array, buf: Uint8Array, from: number, to: number, h: number, mask: number): number {
  for (let i = from; i < to; i++) {
    h = ((h << 1) + G[buf[i]!]!) | 0;
    if ((h & mask) === 0) return i;
  }
  scanHash = h;
  return -1;
}

/** `n` one-bits in the high end of a 32-bit word, as a signed int. */
function highMask(n: number): number {
  return (0xffffffff << (32 - n)) | 0;
}

/**
 * A streaming chunker: feed consecutive pieces of one file to `findCut`; it returns the
 * offset just past a cut point in the piece, or -1 when the current chunk continues.
 * After a cut, call again with that offset to continue scanning the same piece.
 */
export class FastCdc {
  private readonly maskS: number;
  private readonly maskL: number;
  private len = 0;
  private h = 0;

  constructor(
    private readonly gear: Int32Array,
    private readonly sizes: ChunkSizes,
  ) {
    const bits = Math.round(Math.log2(sizes.avgSize));
    if (2 ** bits !== sizes.avgSize || sizes.minSize >= sizes.avgSize || sizes.avgSize >= sizes.maxSize) {
      throw new RangeError('chunk sizes must satisfy min < avg < max with avg a power of two');
    }
    this.maskS = highMask(bits + 2);
    this.maskL = highMask(bits - 2);
  }

  get maxSize(): number {
    return this.sizes.maxSize;
  }

  reset(): void {
    this.len = 0;
    this.h = 0;
  }

  findCut(buf: Uint8Array, from: number): number {
    const n = buf.length;
    const { minSize, avgSize, maxSize } = this.sizes;
    let len = this.len;
    let h = this.h;
    let i = from;
    while (i < n) {
      if (len < minSize) {
        const skip = minSize - len;
        if (skip >= n - i) {
          len += n - i;
          i = n;
          break;
        }
        i += skip;
        len = minSize;
        h = 0;
      }
      // Below the average size, the stricter mask (fewer cuts); past it, the looser one.
      const small = len < avgSize;
      const lim = Math.min(n, i + ((small ? avgSize : maxSize) - len));
      const at = gearScan(this.gear, buf, i, lim, h, small ? this.maskS : this.maskL);
      if (at >= 0) return this.cut(at + 1);
      h = scanHash;
      len += lim - i;
      i = lim;
      if (len >= maxSize) return this.cut(i);
    }
    this.len = len;
    this.h = h;
    return -1;
  }

  private cut(at: number): number {
    this.len = 0;
    this.h = 0;
    return at;
  }
}
