/**
 * The chunker crosses runs of zeros a block at a time (src/chunker/fastcdc.ts, ZERO_BLOCK).
 * That must not move a single cut: the cuts are compared with a byte-by-byte FastCDC written
 * here from the definition, on data mixing random bytes and zero runs of every awkward length,
 * fed whole and in pieces, with gear tables whose hash of zeros cuts nowhere, only past the
 * average size, or everywhere. Chunks of zeros are named once per length by each worker
 * (src/workers/file-task.ts): a chunk with a single byte that is not zero must never take
 * that name, or it would be stored as zeros and every later read would agree with it.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { FastCdc, gearTable, isZeroChunk, type ChunkSizes } from '../../src/chunker/fastcdc.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { streamedCuts } from '../helpers/chunker.js';
import { newLocalRepository } from '../helpers/local-repo.js';
import { describeTree, diffTrees } from '../helpers/tree.js';

function highMask(n: number): number {
  return (0xffffffff << (32 - n)) | 0;
}

/** Every cut of `data`, hashing each byte: FastCDC with normalized chunking, as specified. */
function referenceCuts(G: Int32Array, s: ChunkSizes, data: Uint8Array): number[] {
  const bits = Math.round(Math.log2(s.avgSize));
  const maskS = highMask(bits + 2);
  const maskL = highMask(bits - 2);
  const cuts: number[] = [];
  let start = 0;
  for (;;) {
    let h = 0;
    let cut = -1;
    for (let k = s.minSize; ; k++) {
      if (k >= s.maxSize) {
        cut = start + s.maxSize;
        break;
      }
      const p = start + k;
      if (p >= data.length) return cuts;
      h = ((h << 1) + G[data[p]!]!) | 0;
      if ((h & (k < s.avgSize ? maskS : maskL)) === 0) {
        cut = p + 1;
        break;
      }
    }
    cuts.push(cut);
    start = cut;
  }
}

/** Random bytes and zero runs, of lengths around every boundary the fast path has. */
function mixed(seed: number, total: number, runs: readonly number[]): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  for (let i = 0; n < total; i++) {
    const random = randomBytes(1 + ((seed * 7919 + i * 104_729) % 300_000));
    const zeros = Buffer.alloc(runs[(seed + i) % runs.length]!);
    parts.push(random, zeros);
    n += random.length + zeros.length;
  }
  return Buffer.concat(parts).subarray(0, total);
}

const RUNS = [0, 1, 31, 32, 33, 63, 64, 65, 4096, 65_535, 65_536, 65_537, 131_073, 600_000, 2_000_000, 9_000_000];

/** A random gear table whose G[0] is replaced, so that the hash of a zero run is -g0. */
function tableWith(g0: number | undefined, seed: number): Int32Array {
  const G = gearTable(Buffer.alloc(32, seed));
  if (g0 !== undefined) G[0] = g0;
  return G;
}

describe('chunking runs of zeros', () => {
  // G[0] for the small sizes (masks: top 12 bits, then top 8) and for the real ones (22, then
  // 18). Odd, so that the hash after 31 zeros still differs from -G[0] (in its top bit).
  const tables: [string, number | undefined, number | undefined][] = [
    ['a random table (zeros cut nowhere)', undefined, undefined],
    ['zeros cut only past the average size', -((1 << 21) | 1), -((1 << 11) | 1)],
    ['zeros cut everywhere', -((1 << 10) | 1), -((1 << 9) | 1)],
  ];
  for (const [what, g0, g0Real] of tables) {
    it(`small chunk sizes, ${what}`, () => {
      const sizes = { minSize: 256, avgSize: 1024, maxSize: 4096 };
      const G = tableWith(g0, 3);
      for (let seed = 1; seed <= 6; seed++) {
        const data = mixed(seed, 3_000_000, RUNS);
        const want = referenceCuts(G, sizes, data);
        expect(want.length).toBeGreaterThan(500);
        expect(streamedCuts(new FastCdc(G, sizes), data, [data.length])).toEqual(want);
        const ends = [1, 31, 32, 33, 1000, 65_536, 65_569, 1_000_003, 2_000_000, data.length];
        expect(streamedCuts(new FastCdc(G, sizes), data, ends)).toEqual(want);
      }
    });

    it(`the real chunk sizes, ${what}`, () => {
      const sizes = { minSize: 512 * 1024, avgSize: 1024 * 1024, maxSize: 8 * 1024 * 1024 };
      const G = tableWith(g0Real, 4);
      const data = mixed(9, 48 * 1024 * 1024, RUNS);
      const want = referenceCuts(G, sizes, data);
      expect(want.length).toBeGreaterThan(8);
      const ends = Array.from({ length: 48 }, (_, i) => (i + 1) * 1024 * 1024 - (i % 3) * 17);
      ends[ends.length - 1] = data.length;
      expect(streamedCuts(new FastCdc(G, sizes), data, ends)).toEqual(want);
    });
  }

  it('tells chunks of zeros from the rest', () => {
    expect(isZeroChunk(Buffer.alloc(8 * 1024 * 1024))).toBe(true);
    expect(isZeroChunk(Buffer.alloc(70_000))).toBe(true);
    expect(isZeroChunk(Buffer.alloc(0))).toBe(false);
    for (const at of [0, 1, 65_535, 65_536, 69_999]) {
      const b = Buffer.alloc(70_000);
      b[at] = 1;
      expect(isZeroChunk(b), `a one at ${at}`).toBe(false);
    }
  });

  it('a chunk of zeros but one byte is never named as zeros: backed up and restored byte for byte', async () => {
    const { dir, repo } = await newLocalRepository({ workers: 1 }); // one thread: one cache of zero names
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    const MiB = 1024 * 1024;
    // Holes read as zeros: 16 MiB files of two 8 MiB chunks (the largest), the first all zeros,
    // so that the name of an 8 MiB chunk of zeros is known before the others are read.
    const file = (name: string, one?: number) => {
      const p = path.join(src, name);
      fs.writeFileSync(p, '');
      fs.truncateSync(p, 16 * MiB);
      if (one !== undefined) {
        const fd = fs.openSync(p, 'r+');
        fs.writeSync(fd, Buffer.from([1]), 0, 1, one);
        fs.closeSync(fd);
      }
    };
    file('a-zeros.bin');
    for (const at of [0, 65_535, 65_536, 5 * MiB + 7, 8 * MiB - 1, 8 * MiB, 16 * MiB - 1]) file(`b-one-at-${at}.bin`, at);
    try {
      const r = await backup(repo, { paths: [src] });
      const res = await restoreTree(repo, r.snapshot.tree, { target: path.join(dir, 'out'), verify: true });
      expect(res.failures).toEqual([]);
      expect(res.verifiedFiles).toBe(8);
      expect(diffTrees(describeTree(src), describeTree(path.join(dir, 'out', src)))).toEqual([]);
    } finally {
      await repo.close();
    }
  });
});
