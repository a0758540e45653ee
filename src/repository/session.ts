/**
 * Write-only sessions (docs/FORMAT.md §10): a random key per backup, stored as
 * `sessions/<id>` sealed to the repository's session public key. Everything the session
 * writes (blobs, pack headers, index objects, the snapshot) is sealed with that key; the
 * agent forgets it when the next backup starts, and only a full key (which derives the
 * private key) can open it again.
 * @module
 */
import { createHash } from 'node:crypto';
import { IntegrityError } from '../domain/errors.js';
import { KEY_BYTES, randomBytes } from '../crypto/aead.js';
import { openSealedBox, sealToPublicKey, type BoxKeyPair } from '../crypto/sealed-box.js';

export const SESSIONS_PREFIX = 'sessions/';
export const sessionObjectKey = (id: string): string => `${SESSIONS_PREFIX}${id}`;

const MAGIC = Buffer.from('coffre/v1/session\0', 'latin1');

export interface WriteSessionKey {
  /** SHA-256 of the `sessions/` object, 32 bytes */
  readonly id: Buffer;
  readonly key: Buffer;
  /** the sealed object to store as `sessions/<hex id>` */
  readonly object: Buffer;
}

/** A fresh session key, sealed to `publicKey` and bound to the repository id. */
export function newSessionKey(publicKey: Uint8Array, repositoryId: string): WriteSessionKey {
  const key = randomBytes(KEY_BYTES);
  const plain = Buffer.concat([MAGIC, Buffer.from(repositoryId, 'hex'), key]);
  const object = sealToPublicKey(plain, publicKey);
  plain.fill(0);
  return { id: createHash('sha256').update(object).digest(), key, object };
}

/** Opens a `sessions/` object (its name already checked against its bytes). */
export function openSessionKey(object: Uint8Array, pair: BoxKeyPair, repositoryId: string, objectKey: string): Buffer {
  let plain: Buffer;
  try {
    plain = openSealedBox(object, pair);
  } catch {
    throw new IntegrityError(objectKey, `${objectKey}: cannot be opened with this repository's session key pair`);
  }
  const repo = Buffer.from(repositoryId, 'hex');
  if (plain.length !== MAGIC.length + repo.length + KEY_BYTES || !plain.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new IntegrityError(objectKey, `${objectKey}: not a session key object`);
  }
  if (!plain.subarray(MAGIC.length, MAGIC.length + repo.length).equals(repo)) {
    throw new IntegrityError(objectKey, `${objectKey}: belongs to another repository`);
  }
  const key = Buffer.from(plain.subarray(MAGIC.length + repo.length));
  plain.fill(0);
  return key;
}
