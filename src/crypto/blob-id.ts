/**
 * Blob ids are HMAC-SHA-256 of the plaintext under the repository's id key, never a plain
 * content hash, so that nobody without the key can test whether a known file is stored.
 * HMAC-SHA-256 was chosen over keyed BLAKE2b by measurement: 1.7 GB/s (SHA-NI through
 * OpenSSL) against 1.1 GB/s for sodium-native's BLAKE2b on this machine
 * (notes/perf-baseline.md, A2).
 * @module
 */
import { createHmac } from 'node:crypto';

export function keyedId(idKey: Uint8Array, plain: Uint8Array): Buffer {
  return createHmac('sha256', idKey).update(plain).digest();
}
