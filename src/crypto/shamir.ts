/**
 * Shamir secret sharing over GF(256) (the AES field, reduction polynomial x⁸+x⁴+x³+x+1):
 * each byte of the secret is the constant term of its own random polynomial of degree
 * M−1; share x holds the polynomials' values at x (1…255). Any M shares give the secret
 * back by Lagrange interpolation at 0; fewer reveal nothing about it.
 * Used to split the recovery key among several people (docs/SECURITY.md).
 * @module
 */
import { randomBytes } from './aead.js';

/** Multiplication in GF(256): shift-and-add, reducing by 0x11b. Constant-time in its operands' values. */
export function gfMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    p ^= -(b & 1) & a;
    const carry = -((a >> 7) & 1) & 0x1b;
    a = ((a << 1) & 0xff) ^ carry;
    b >>= 1;
  }
  return p;
}

/** Multiplicative inverse: a^254 (a^255 = 1 for every non-zero a). */
export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('0 has no inverse in GF(256)');
  let result = 1;
  let base = a;
  for (let e = 254; e > 0; e >>= 1) {
    if (e & 1) result = gfMul(result, base);
    base = gfMul(base, base);
  }
  return result;
}

export interface Share {
  /** the evaluation point, 1…255 */
  readonly x: number;
  readonly y: Buffer;
}

/**
 * Splits `secret` into `n` shares, any `m` of which recover it. `random(k)` gives the
 * polynomial coefficients (tests pass fixed ones to check known vectors).
 */
export function splitSecret(secret: Uint8Array, m: number, n: number, random: (k: number) => Uint8Array = randomBytes): Share[] {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < m || n > 255) {
    throw new RangeError(`need 1 ≤ threshold ≤ shares ≤ 255 (got threshold ${m}, shares ${n})`);
  }
  // coefficients[j][i]: coefficient of x^(j+1) for secret byte i
  const coefficients = Array.from({ length: m - 1 }, () => Buffer.from(random(secret.length)));
  const shares: Share[] = [];
  for (let x = 1; x <= n; x++) {
    const y = Buffer.alloc(secret.length);
    for (let i = 0; i < secret.length; i++) {
      // Horner: ((a_{m-1} x + a_{m-2}) x + … + a_1) x + s
      let v = 0;
      for (let j = m - 2; j >= 0; j--) v = gfMul(v ^ coefficients[j]![i]!, x);
      y[i] = v ^ secret[i]!;
    }
    shares.push({ x, y });
  }
  for (const c of coefficients) c.fill(0);
  return shares;
}

/** Recovers the secret from at least `m` distinct shares (Lagrange interpolation at x = 0). */
export function combineShares(shares: readonly Share[]): Buffer {
  if (shares.length === 0) throw new RangeError('no shares');
  const len = shares[0]!.y.length;
  const xs = new Set<number>();
  for (const s of shares) {
    if (s.y.length !== len) throw new RangeError('the shares have different lengths: they are not from one split');
    if (s.x < 1 || s.x > 255 || xs.has(s.x)) throw new RangeError(`share number ${s.x} is invalid or given twice`);
    xs.add(s.x);
  }
  const out = Buffer.alloc(len);
  for (const s of shares) {
    // basis polynomial at 0: Π x_k / (x_k − x_s), subtraction being XOR
    let basis = 1;
    for (const o of shares) if (o !== s) basis = gfMul(basis, gfMul(o.x, gfInv(o.x ^ s.x)));
    for (let i = 0; i < len; i++) out[i]! ^= gfMul(s.y[i]!, basis);
  }
  return out;
}
