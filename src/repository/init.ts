/**
 * Creating a repository: random master keys, the config, a key file for the admin's
 * passphrase and one for a printed recovery key. The config is written last, so a
 * half-finished init is never mistaken for a repository.
 * @module
 */
import { UsageError, isStorageError } from '../domain/errors.js';
import type { KeyId } from '../domain/ids.js';
import { randomBytes } from '../crypto/aead.js';
import type { KdfChoice } from '../crypto/kdf.js';
import type { Storage } from '../storage/storage.js';
import {
  DEFAULT_CHUNKER,
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_PACK_SIZE,
  encodeConfig,
  type ObjectLockPolicy,
  type RepoConfig,
} from './config.js';
import { sealEnvelope } from './envelope.js';
import { createKeyFile, newMasterKeys } from './keyfile.js';
import { CONFIG_KEY, keyFileKey } from './layout.js';

export interface InitOptions {
  readonly kdf: KdfChoice;
  readonly objectLock?: ObjectLockPolicy;
  readonly compressionLevel?: number;
  readonly packSize?: number;
  readonly chunker?: { minSize: number; avgSize: number; maxSize: number };
  /** Also create a recovery key (default true). */
  readonly recoveryKey?: boolean;
}

export interface InitResult {
  readonly repositoryId: string;
  readonly keyId: KeyId;
  /** Shown once: a second passphrase, to be printed and locked away. */
  readonly recoveryKey?: string;
}

export async function initRepository(storage: Storage, password: Uint8Array, opts: InitOptions): Promise<InitResult> {
  const exists = await storage.stat(CONFIG_KEY).then(
    () => true,
    (e: unknown) => {
      if (isStorageError(e, 'not-found')) return false;
      throw e;
    },
  );
  if (exists) throw new UsageError(`a repository already exists at ${storage.location}`);
  if (opts.objectLock) {
    const lock = await storage.objectLock?.();
    if (!lock?.enabled) {
      throw new UsageError(`Object Lock is not enabled on ${storage.location}`, {
        hint: 'create the bucket with Object Lock enabled; most providers cannot switch it on later',
      });
    }
  }
  const keys = newMasterKeys();
  const config: RepoConfig = {
    version: 1,
    id: randomBytes(32).toString('hex'),
    created: new Date().toISOString(),
    chunker: { algorithm: 'fastcdc-gear32', ...(opts.chunker ?? DEFAULT_CHUNKER), seed: randomBytes(32).toString('hex') },
    compression: { algorithm: 'zstd', level: opts.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL },
    packSize: opts.packSize ?? DEFAULT_PACK_SIZE,
    objectLock: opts.objectLock ?? null,
  };
  const retention = opts.objectLock
    ? { retention: { mode: opts.objectLock.mode, until: new Date(Date.now() + opts.objectLock.days * 86_400_000) } }
    : {};
  const admin = await createKeyFile(keys, password, config.id, { profile: opts.kdf, label: 'admin' });
  await storage.put(keyFileKey(admin.id), admin.bytes, retention);
  let recoveryKey: string | undefined;
  if (opts.recoveryKey !== false) {
    recoveryKey = newRecoveryKey();
    const rec = await createKeyFile(keys, Buffer.from(recoveryKey), config.id, { profile: opts.kdf, label: 'recovery' });
    await storage.put(keyFileKey(rec.id), rec.bytes, retention);
  }
  await storage.put(CONFIG_KEY, sealEnvelope('config', encodeConfig(config), keys.dataKey, { level: 0 }), retention);
  return { repositoryId: config.id, keyId: admin.id, recoveryKey };
}

const BASE32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no I, O, 0, 1: nothing to misread on paper

/** 160 random bits as 32 characters in groups of four: ABCD-EFGH-… */
function newRecoveryKey(): string {
  const bytes = randomBytes(20);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}
