/**
 * Argon2id (libsodium crypto_pwhash) turning a passphrase into a key-encryption key.
 * Parameters are stored in each key file, so they can be raised later without breaking
 * old key files. Runs on libuv's thread pool: the event loop is not blocked.
 * @module
 */
import { sodium } from './sodium.js';
import { UsageError } from '../domain/errors.js';

export interface KdfParams {
  readonly algorithm: 'argon2id13';
  readonly opsLimit: number;
  readonly memLimit: number;
  /** base64, crypto_pwhash_SALTBYTES (16) bytes */
  readonly salt: string;
}

/**
 * Named cost profiles. `moderate` (256 MiB, 3 passes: about 0.5 s here) is the default;
 * `min` exists only so that tests run quickly and must never protect real data.
 */
export const KDF_PROFILES = {
  min: { opsLimit: sodium.crypto_pwhash_OPSLIMIT_MIN, memLimit: sodium.crypto_pwhash_MEMLIMIT_MIN },
  interactive: { opsLimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, memLimit: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE },
  moderate: { opsLimit: sodium.crypto_pwhash_OPSLIMIT_MODERATE, memLimit: sodium.crypto_pwhash_MEMLIMIT_MODERATE },
  sensitive: { opsLimit: sodium.crypto_pwhash_OPSLIMIT_SENSITIVE, memLimit: sodium.crypto_pwhash_MEMLIMIT_SENSITIVE },
} as const;
export type KdfProfile = keyof typeof KDF_PROFILES;

/** An explicit Argon2id cost: `memLimit` bytes, `opsLimit` passes over them. */
export interface KdfCost {
  readonly opsLimit: number;
  readonly memLimit: number;
}

/** A named profile, or a cost given in numbers (`--kdf-memory`, `--kdf-passes`). */
export type KdfChoice = KdfProfile | KdfCost;

const MIB = 1024 * 1024;
/**
 * Floors for a cost given in numbers, from OWASP's Argon2id guidance: at least 19 MiB with
 * two passes, or 46 MiB with one. The ceiling keeps a typo from asking for terabytes.
 */
const CUSTOM_MIN_MIB = 19;
const ONE_PASS_MIN_MIB = 46;
const CUSTOM_MAX_MIB = 4096;
const CUSTOM_MAX_PASSES = 16;

export function parseKdfProfile(s: string): KdfProfile {
  if (s in KDF_PROFILES) return s as KdfProfile;
  throw new UsageError(`unknown KDF profile "${s}" (expected ${Object.keys(KDF_PROFILES).join(', ')})`);
}

/**
 * The cost of a new key file: `profile`, with its memory (MiB) or passes replaced when given.
 * A cost below OWASP's Argon2id floor is refused: the passphrase is all that stands between
 * a stolen repository and its contents.
 */
export function kdfChoice(profile: string, custom: { memoryMiB?: number; passes?: number } = {}): KdfChoice {
  const named = parseKdfProfile(profile);
  if (custom.memoryMiB === undefined && custom.passes === undefined) return named;
  const base = KDF_PROFILES[named];
  const memoryMiB = custom.memoryMiB ?? base.memLimit / MIB;
  const passes = custom.passes ?? base.opsLimit;
  if (!Number.isInteger(memoryMiB) || memoryMiB < CUSTOM_MIN_MIB || memoryMiB > CUSTOM_MAX_MIB) {
    throw new UsageError(`--kdf-memory: expected ${CUSTOM_MIN_MIB} to ${CUSTOM_MAX_MIB} MiB, got ${memoryMiB}`);
  }
  if (!Number.isInteger(passes) || passes < 1 || passes > CUSTOM_MAX_PASSES) {
    throw new UsageError(`--kdf-passes: expected 1 to ${CUSTOM_MAX_PASSES}, got ${passes}`);
  }
  if (passes === 1 && memoryMiB < ONE_PASS_MIN_MIB) {
    throw new UsageError(`--kdf-passes 1 needs --kdf-memory ${ONE_PASS_MIN_MIB} or more (got ${memoryMiB} MiB)`);
  }
  return { opsLimit: passes, memLimit: memoryMiB * MIB };
}

export function newKdfParams(choice: KdfChoice, salt: Uint8Array): KdfParams {
  const p = typeof choice === 'string' ? KDF_PROFILES[choice] : choice;
  return { algorithm: 'argon2id13', opsLimit: p.opsLimit, memLimit: p.memLimit, salt: Buffer.from(salt).toString('base64') };
}

export const SALT_BYTES = sodium.crypto_pwhash_SALTBYTES;

export async function deriveKey(password: Uint8Array, params: KdfParams, bytes: number): Promise<Buffer> {
  const salt = Buffer.from(params.salt, 'base64');
  if (params.algorithm !== 'argon2id13' || salt.length !== SALT_BYTES) {
    throw new UsageError(`unsupported key derivation parameters (${params.algorithm})`);
  }
  const out = Buffer.alloc(bytes);
  await sodium.crypto_pwhash_async(out, password, salt, params.opsLimit, params.memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
  return out;
}
