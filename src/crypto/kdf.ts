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

export function parseKdfProfile(s: string): KdfProfile {
  if (s in KDF_PROFILES) return s as KdfProfile;
  throw new UsageError(`unknown KDF profile "${s}" (expected ${Object.keys(KDF_PROFILES).join(', ')})`);
}

export function newKdfParams(profile: KdfProfile, salt: Uint8Array): KdfParams {
  const p = KDF_PROFILES[profile];
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
