/**
 * Anonymous public-key encryption (libsodium sealed boxes: X25519 + XSalsa20-Poly1305 with
 * an ephemeral sender key). A write-only agent seals each session key to the repository's
 * session public key; only a holder of the private key can open it, and the agent cannot
 * open what it sealed itself once it has forgotten the session key.
 * @module
 */
import { createHmac } from 'node:crypto';
import { sodium } from './sodium.js';
import { AuthenticationError } from './aead.js';

export const SEALED_BOX_OVERHEAD = sodium.crypto_box_SEALBYTES;

export interface BoxKeyPair {
  readonly publicKey: Buffer;
  readonly secretKey: Buffer;
}

/**
 * The repository's session key pair, derived from its data key: every full key (admin
 * passphrase, recovery key) can therefore open sessions without any new key file, and the
 * pair can be recomputed on any admin machine. seed = HMAC-SHA-256(dataKey, label).
 */
export function sessionKeyPair(dataKey: Uint8Array): BoxKeyPair {
  const seed = createHmac('sha256', dataKey).update('coffre/v1/session-keypair').digest();
  const publicKey = Buffer.alloc(sodium.crypto_box_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_box_SECRETKEYBYTES);
  sodium.crypto_box_seed_keypair(publicKey, secretKey, seed);
  seed.fill(0);
  return { publicKey, secretKey };
}

export function sealToPublicKey(plain: Uint8Array, publicKey: Uint8Array): Buffer {
  const out = Buffer.alloc(plain.length + SEALED_BOX_OVERHEAD);
  sodium.crypto_box_seal(out, plain, publicKey);
  return out;
}

export function openSealedBox(sealed: Uint8Array, pair: BoxKeyPair): Buffer {
  if (sealed.length < SEALED_BOX_OVERHEAD) throw new AuthenticationError();
  const out = Buffer.alloc(sealed.length - SEALED_BOX_OVERHEAD);
  if (!sodium.crypto_box_seal_open(out, sealed, pair.publicKey, pair.secretKey)) throw new AuthenticationError();
  return out;
}
