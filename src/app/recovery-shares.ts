/**
 * The recovery key split into N shares of which any M give it back (Shamir over GF(256),
 * src/crypto/shamir.ts), so that no single person holds it. A share is one line of text:
 *
 *   coffre-share-<M>-<x>-<the share's bytes in the recovery key's alphabet, groups of 4>
 *
 * The secret shared is the recovery key exactly as printed by `init` (ASCII, dashes
 * included); combining checks the result has that shape before printing it.
 * @module
 */
import { UsageError } from '../domain/errors.js';
import { combineShares, splitSecret, type Share } from '../crypto/shamir.js';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const RECOVERY_KEY = /^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){7}$/;
const SHARE = /^coffre-share-(\d{1,3})-(\d{1,3})-([A-HJ-NP-Z2-9-]+)$/;

export function splitRecoveryKey(recoveryKey: Uint8Array, threshold: number, shares: number): string[] {
  const key = Buffer.from(recoveryKey).toString('latin1').trim().toUpperCase();
  if (!RECOVERY_KEY.test(key)) throw new UsageError('this is not a recovery key as printed by "coffre init" (eight groups of four characters)');
  if (threshold < 2) throw new UsageError('--threshold must be at least 2 (with 1, every share is the recovery key itself)');
  if (shares < threshold || shares > 255) throw new UsageError('--shares must be between the threshold and 255');
  return splitSecret(Buffer.from(key, 'latin1'), threshold, shares).map((s) => `coffre-share-${threshold}-${s.x}-${groups(base32(s.y))}`);
}

export function combineRecoveryShares(lines: readonly string[]): string {
  const parsed = lines.map((l) => parseShare(l));
  const threshold = parsed[0]!.threshold;
  if (parsed.some((p) => p.threshold !== threshold)) throw new UsageError('the shares come from different splits (their thresholds differ)');
  if (parsed.length < threshold) throw new UsageError(`${parsed.length} share(s) given, ${threshold} needed`);
  const xs = new Set(parsed.map((p) => p.share.x));
  if (xs.size !== parsed.length) throw new UsageError('the same share was given twice');
  let secret: Buffer;
  try {
    secret = combineShares(parsed.map((p) => p.share));
  } catch (e) {
    throw new UsageError(`the shares do not combine: ${(e as Error).message}`);
  }
  const key = secret.toString('latin1');
  if (!RECOVERY_KEY.test(key)) throw new UsageError('the shares do not combine into a recovery key (shares of different splits, or a mistyped share)');
  return key;
}

function parseShare(line: string): { threshold: number; share: Share } {
  const m = SHARE.exec(line.trim().toUpperCase().replace(/^COFFRE-SHARE-/, 'coffre-share-'));
  if (!m) throw new UsageError('not a recovery key share (expected "coffre-share-M-X-…")');
  const threshold = Number(m[1]);
  const x = Number(m[2]);
  if (threshold < 2 || x < 1 || x > 255) throw new UsageError('not a recovery key share (bad threshold or share number)');
  return { threshold, share: { x, y: unbase32(m[3]!.replace(/-/g, '')) } };
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of text) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) throw new UsageError(`not a recovery key share (character ${JSON.stringify(c)})`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function groups(s: string): string {
  return s.match(/.{1,4}/g)!.join('-');
}
