/**
 * XChaCha20-Poly1305 (libsodium's IETF construction, 192-bit random nonces), the only
 * cipher Coffre uses for data. Sealed form: nonce (24 B) ‖ ciphertext ‖ tag (16 B).
 * Random nonces are safe at this size, so no counter state has to be kept or reserved
 * between concurrent writers (borg 1.x's weakness).
 * @module
 */
import { sodium } from './sodium.js';

export const KEY_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
export const NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
export const TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;
/** Bytes a sealed message adds to its plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** Authentication failed: wrong key, wrong associated data, or altered bytes. */
export class AuthenticationError extends Error {
  constructor() {
    super('authentication failed');
    this.name = 'AuthenticationError';
  }
}

export function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  sodium.randombytes_buf(b);
  return b;
}

/**
 * Seals `plain` into a fresh buffer; `prefix` bytes are reserved in front of the nonce for
 * the caller to fill (they are not initialised).
 */
export function seal(key: Uint8Array, plain: Uint8Array, aad: Uint8Array, prefix = 0): Buffer {
  const out = Buffer.allocUnsafe(prefix + SEAL_OVERHEAD + plain.length);
  sealInto(out.subarray(prefix), key, plain, aad);
  return out;
}

/** Seals `plain` into the start of `out` (at least SEAL_OVERHEAD bytes longer); returns the sealed view. */
function sealInto(out: Buffer, key: Uint8Array, plain: Uint8Array, aad: Uint8Array): Buffer {
  const sealed = out.subarray(0, NONCE_BYTES + plain.length + TAG_BYTES);
  const nonce = sealed.subarray(0, NONCE_BYTES);
  sodium.randombytes_buf(nonce);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.subarray(NONCE_BYTES), plain, aad, null, nonce, key);
  return sealed;
}

/**
 * Seals in place, in one buffer: the plaintext is at NONCE_BYTES (`plainLength` bytes, with
 * TAG_BYTES of room after it). The nonce is written in front of it, the ciphertext over it
 * and the tag after it; returns the sealed message, a view of `buf` from its start. libsodium
 * encrypts in place when the output is the input: a thread sealing chunk after chunk needs
 * one buffer, not two.
 */
export function sealInPlace(buf: Buffer, plainLength: number, key: Uint8Array, aad: Uint8Array): Buffer {
  const sealed = buf.subarray(0, NONCE_BYTES + plainLength + TAG_BYTES);
  if (sealed.length !== NONCE_BYTES + plainLength + TAG_BYTES) throw new RangeError('sealInPlace: buffer too small');
  const nonce = sealed.subarray(0, NONCE_BYTES);
  sodium.randombytes_buf(nonce);
  const inOut = sealed.subarray(NONCE_BYTES);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(inOut, inOut.subarray(0, plainLength), aad, null, nonce, key);
  return sealed;
}

/**
 * Opens in place: the plaintext is decrypted over the ciphertext and returned as a view of
 * `sealed`, whose bytes are the caller's to overwrite (a fetched range nothing else reads).
 * libsodium checks the tag before it decrypts: a message that fails authentication is never
 * decrypted (libsodium zeroes its bytes instead).
 */
export function openInPlace(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationError();
  const inOut = Buffer.from(sealed.buffer, sealed.byteOffset + NONCE_BYTES, sealed.length - NONCE_BYTES);
  const plain = inOut.subarray(0, inOut.length - TAG_BYTES);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(plain, null, inOut, aad, sealed.subarray(0, NONCE_BYTES), key);
  } catch {
    throw new AuthenticationError();
  }
  return plain;
}

export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationError();
  return openInto(key, sealed, aad, Buffer.allocUnsafe(sealed.length - SEAL_OVERHEAD));
}

/**
 * Like `open`, but decrypts into `out` (at least the plaintext's length) instead of a fresh
 * buffer, and returns the plaintext as a view of it: a restore opens hundreds of megabytes
 * blob by blob, and a fresh buffer each time costs page faults and garbage collection.
 */
export function openInto(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, out: Buffer): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationError();
  const plain = out.subarray(0, sealed.length - SEAL_OVERHEAD);
  if (plain.length !== sealed.length - SEAL_OVERHEAD) throw new RangeError('openInto: output buffer too small');
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(plain, null, sealed.subarray(NONCE_BYTES), aad, sealed.subarray(0, NONCE_BYTES), key);
  } catch {
    throw new AuthenticationError();
  }
  return plain;
}
