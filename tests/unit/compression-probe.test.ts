/**
 * Compression "only when it pays", with the probe that skips compressing data whose
 * samples do not compress: random data is stored as it is (the same bytes, not a copy),
 * text is compressed, and data that is random in places but compressible in one of the
 * sampled places is still compressed. Whatever the flag, decoding gives the input back.
 */
import { describe, expect, it } from 'vitest';
import { compressIfWorthIt, decompress, FLAG_NONE, FLAG_ZSTD } from '../../src/compress/zstd.js';
import { csvText, seededBytes } from '../helpers/tree.js';

const MiB = 1024 * 1024;

function roundTrip(input: Buffer): number {
  const out = compressIfWorthIt(input, 3);
  const back = out.flag === FLAG_ZSTD ? decompress(out.bytes) : Buffer.from(out.bytes);
  expect(back.equals(input)).toBe(true);
  return out.flag;
}

describe('compressIfWorthIt', () => {
  it('stores random data as it is, without a copy', () => {
    const input = seededBytes(MiB, 11);
    const out = compressIfWorthIt(input, 3);
    expect(out.flag).toBe(FLAG_NONE);
    expect(out.bytes).toBe(input);
  });

  it('compresses text, large and small', () => {
    const text = csvText(MiB, 12);
    const out = compressIfWorthIt(text, 3);
    expect(out.flag).toBe(FLAG_ZSTD);
    expect(out.bytes.length).toBeLessThan(text.length * 0.7);
    expect(roundTrip(text)).toBe(FLAG_ZSTD);
    expect(roundTrip(text.subarray(0, 10_000))).toBe(FLAG_ZSTD); // below the probe size: compressed directly
  });

  it('compresses random data with text at its end (only the last sample compresses)', () => {
    const input = Buffer.concat([seededBytes(MiB - 64 * 1024, 13), csvText(64 * 1024, 14).subarray(0, 64 * 1024)]);
    expect(input.length).toBe(MiB);
    expect(roundTrip(input)).toBe(FLAG_ZSTD);
  });

  it('round-trips inputs around the probe threshold and of zeros', () => {
    for (const n of [63, 64, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 200_000]) {
      expect([FLAG_NONE, FLAG_ZSTD]).toContain(roundTrip(seededBytes(n, n)));
    }
    expect(roundTrip(Buffer.alloc(3 * MiB))).toBe(FLAG_ZSTD);
  });
});
