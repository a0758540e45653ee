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
 * The first `minSize` bytes of each chunk are skipped unhashed, and the hash loop itself runs
 * in WebAssembly (gear-scan.ts). Cut decisions use the high bits of the hash, which depend on
 * the last 32 input bytes.
 * @module
 */
import { hkdfSync } from 'node:crypto';
import { gearScanner, type GearScanner } from './gear-scan.js';

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

/** The hash where the last `scanWithZeros` stopped without a cut. */
let scanHash = 0;

/**
 * Zeros are crossed a block at a time. After 32 zero bytes the gear hash is -G[0] whatever it
 * was before (each step doubles it and adds G[0]: the old bits shift out), and it stays so
 * until the zeros end: the cut decision is the same at every position in between, and is
 * made once. Sparse files, preallocated database files and disk images are mostly zeros:
 * hashing them byte by byte cost a second per GB.
 */
const ZERO_BLOCK = 64 * 1024;
const ZEROS = Buffer.alloc(ZERO_BLOCK);
/** Zeros hashed one by one before the hash is known to be -G[0]. */
const ZERO_SETTLE = 32;

/** Whether buf[from, to) holds only zeros (to - from <= ZERO_BLOCK). */
function allZero(buf: Uint8Array, from: number, to: number): boolean {
  return ZEROS.compare(buf, from, to, 0, to - from) === 0;
}

/** Whether a chunk holds only zeros (at memory speed: most chunks fail on their first or last byte). */
export function isZeroChunk(c: Uint8Array): boolean {
  if (c.length === 0 || c[0] !== 0 || c[c.length - 1] !== 0) return false;
  for (let i = 0; i < c.length; i += ZERO_BLOCK) if (!allZero(c, i, Math.min(c.length, i + ZERO_BLOCK))) return false;
  return true;
}

/**
 * The scan over buf[from, to), with whole blocks of zeros crossed at once (see ZERO_BLOCK):
 * the same cut, or -1 and the same hash in `scanHash`, as hashing every byte.
 */
function scanWithZeros(scanner: GearScanner, zeroHash: number, buf: Uint8Array, from: number, to: number, h: number, mask: number): number {
  let i = from;
  while (i < to) {
    const end = Math.min(to, i + ZERO_BLOCK);
    if (buf[i] === 0 && end - i > ZERO_SETTLE && allZero(buf, i, end)) {
      if (h !== zeroHash) {
        // the first zeros still carry what came before: hashed one by one
        const at = scanner.scan(buf, i, i + ZERO_SETTLE - 1, h, mask);
        if (at >= 0) return at;
        i += ZERO_SETTLE - 1;
        h = zeroHash; // the hash after the 32nd zero, at position i
        if ((h & mask) === 0) return i;
        i++;
      } else if ((h & mask) === 0) {
        return i;
      }
      i = end;
      continue;
    }
    const at = scanner.scan(buf, i, end, h, mask);
    if (at >= 0) return at;
    h = scanner.hash;
    i = end;
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
  private readonly scanner: GearScanner;
  /** The hash after 32 zeros, whatever came before them: -G[0] (see ZERO_BLOCK). */
  private readonly zeroHash: number;
  private len = 0;
  private h = 0;

  /** @param scanner the hash loop (default: this thread's for `gear`; tests give the JavaScript one) */
  constructor(gear: Int32Array, private readonly sizes: ChunkSizes, scanner?: GearScanner) {
    const bits = Math.round(Math.log2(sizes.avgSize));
    if (2 ** bits !== sizes.avgSize || sizes.minSize >= sizes.avgSize || sizes.avgSize >= sizes.maxSize) {
      throw new RangeError('chunk sizes must satisfy min < avg < max with avg a power of two');
    }
    this.maskS = highMask(bits + 2);
    this.maskL = highMask(bits - 2);
    this.scanner = scanner ?? gearScanner(gear);
    this.zeroHash = -gear[0]! | 0;
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
      const at = scanWithZeros(this.scanner, this.zeroHash, buf, i, lim, h, small ? this.maskS : this.maskL);
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
