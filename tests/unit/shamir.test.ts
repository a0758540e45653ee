/**
 * Shamir over GF(256): field arithmetic against values worked out by hand and published
 * AES values, splits with fixed polynomials against hand-computed shares, and any M of N
 * shares (never fewer) giving the secret back.
 */
import { describe, expect, it } from 'vitest';
import { combineShares, gfInv, gfMul, splitSecret } from '../../src/crypto/shamir.js';
import { combineRecoveryShares, splitRecoveryKey } from '../../src/app/recovery-shares.js';

describe('GF(256)', () => {
  it('multiplies as the AES field does', () => {
    // FIPS-197 §4.2: {57}·{83} = {c1}, {57}·{13} = {fe}
    expect(gfMul(0x57, 0x83)).toBe(0xc1);
    expect(gfMul(0x57, 0x13)).toBe(0xfe);
    // (x+1)² = x²+1 (cross terms cancel in characteristic 2)
    expect(gfMul(3, 3)).toBe(5);
    // x⁷·x⁷ = x¹⁴ = x⁷+x⁴+x³+x mod x⁸+x⁴+x³+x+1 (reduced by hand)
    expect(gfMul(0x80, 0x80)).toBe(0x9a);
    expect(gfMul(0, 0xff)).toBe(0);
    expect(gfMul(1, 0xab)).toBe(0xab);
  });

  it('inverts: {53}⁻¹ = {ca} (the AES S-box example), and a·a⁻¹ = 1 for every a ≠ 0', () => {
    expect(gfInv(0x53)).toBe(0xca);
    for (let a = 1; a < 256; a++) expect(gfMul(a, gfInv(a))).toBe(1);
    expect(() => gfInv(0)).toThrow(RangeError);
  });
});

describe('Shamir split and combine', () => {
  it('matches shares computed by hand for fixed polynomials', () => {
    // M = 2, f(x) = 0x42 + 1·x: adding is XOR, so f(x) = 0x42 ^ x
    const two = splitSecret(Buffer.from([0x42]), 2, 3, (k) => Buffer.alloc(k, 0x01));
    expect(two.map((s) => [s.x, s.y[0]])).toEqual([[1, 0x43], [2, 0x40], [3, 0x41]]);
    // M = 3, f(x) = 0 + 0·x + 1·x² (coefficients drawn in order a1, a2): f(2) = 4, f(3) = 5
    const draws = [Buffer.from([0x00]), Buffer.from([0x01])];
    const three = splitSecret(Buffer.from([0x00]), 3, 3, () => draws.shift()!);
    expect(three.map((s) => s.y[0])).toEqual([1, 4, 5]);
    // and back: any two of the first split, the three of the second
    expect(combineShares([two[0]!, two[2]!])).toEqual(Buffer.from([0x42]));
    expect(combineShares(three)).toEqual(Buffer.from([0x00]));
  });

  it('recovers a random secret from every M-subset of N shares; M−1 shares do not', () => {
    const secret = Buffer.from('a secret of several bytes, 0123456789');
    const shares = splitSecret(secret, 3, 5);
    let subsets = 0;
    for (let a = 0; a < 5; a++)
      for (let b = a + 1; b < 5; b++)
        for (let c = b + 1; c < 5; c++) {
          expect(combineShares([shares[c]!, shares[a]!, shares[b]!])).toEqual(secret);
          subsets++;
        }
    expect(subsets).toBe(10);
    expect(combineShares([shares[0]!, shares[1]!])).not.toEqual(secret);
    expect(() => combineShares([shares[0]!, shares[0]!, shares[1]!])).toThrow(/twice/);
  });
});

describe('recovery key shares', () => {
  const key = 'ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789';

  it('split into text shares; any M combine, with clear errors otherwise', () => {
    const shares = splitRecoveryKey(Buffer.from(key), 2, 3);
    expect(shares).toHaveLength(3);
    for (const s of shares) expect(s).toMatch(/^coffre-share-2-[123]-[A-Z2-9]{4}(-[A-Z2-9]{1,4})+$/);
    expect(combineRecoveryShares([shares[2]!, shares[0]!])).toBe(key);
    expect(combineRecoveryShares([shares[1]!.toLowerCase(), shares[2]!])).toBe(key);
    expect(() => combineRecoveryShares([shares[1]!])).toThrow(/1 share\(s\) given, 2 needed/);
    const other = splitRecoveryKey(Buffer.from(key), 2, 3);
    expect(() => combineRecoveryShares([shares[0]!, other[1]!])).toThrow(/do not combine into a recovery key/);
    expect(() => splitRecoveryKey(Buffer.from('not a key'), 2, 3)).toThrow(/not a recovery key/);
    expect(() => splitRecoveryKey(Buffer.from(key), 1, 3)).toThrow(/at least 2/);
  });
});
