/**
 * sodium-native is loaded from its prebuilt binary without the package's addon resolver
 * (src/crypto/sodium.ts: 15-20 ms less start-up for every thread), and works the same.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { sodium } from '../../src/crypto/sodium.js';

describe('sodium-native loading', () => {
  it.runIf(process.platform === 'linux' && process.arch === 'x64')('takes the prebuilt binary directly, never loading require-addon', () => {
    const cached = Object.keys(createRequire(import.meta.url).cache);
    expect(cached.some((k) => k.endsWith('/prebuilds/linux-x64/sodium-native.node'))).toBe(true);
    expect(cached.filter((k) => k.includes('/require-addon/'))).toEqual([]);
  });

  it('seals and opens with the functions the package wraps', () => {
    const key = Buffer.alloc(sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 7);
    const nonce = Buffer.alloc(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    sodium.randombytes_buf(nonce);
    const msg = Buffer.from('patient 1 870 12 75 123 456 78');
    const sealed = Buffer.alloc(msg.length + sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES);
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, msg, null, null, nonce, key);
    const opened = Buffer.alloc(msg.length);
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(opened, null, sealed, null, nonce, key);
    expect(opened.equals(msg)).toBe(true);
    sealed[0]! ^= 1;
    expect(() => sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(opened, null, sealed, null, nonce, key)).toThrow();
  });
});
