/**
 * Side objects: small sealed JSON records that live beside the backup data — anomaly
 * acknowledgements (`acks/`) and audit entries (`audit/`) — sealed with a key derived from
 * the id key for their purpose (Repository.derivedKey), named by the SHA-256 of their bytes,
 * written once and never rewritten (so Object Lock and no-delete credentials hold them).
 *
 *   object = version(u8 = 1) ‖ nonce(24) ‖ XChaCha20-Poly1305(key, JSON, AD) ‖ tag(16)
 *   AD     = ASCII "coffre/v1/" ‖ purpose ‖ 0x00 ‖ version
 *
 * FORMAT §14. v1 readers ignore these prefixes.
 * @module
 */
import { createHash } from 'node:crypto';
import { open, seal } from '../crypto/aead.js';
import { IntegrityError, isStorageError } from '../domain/errors.js';
import { isHexId } from '../domain/ids.js';
import { idOfKey } from './layout.js';
import type { Repository } from './repository.js';

const VERSION = 1;

const aad = (purpose: string) => Buffer.concat([Buffer.from(`coffre/v1/${purpose}\0`, 'latin1'), Buffer.from([VERSION])]);

export function sealSideObject(key: Uint8Array, purpose: string, value: unknown): Buffer {
  return seal(key, Buffer.from(JSON.stringify(value), 'utf8'), aad(purpose), 1).fill(VERSION, 0, 1);
}

export function openSideObject<T>(key: Uint8Array, purpose: string, bytes: Uint8Array, objectKey: string): T {
  if (bytes[0] !== VERSION) throw new IntegrityError(objectKey, `${objectKey}: unknown version ${bytes[0]}`);
  let plain: Buffer;
  try {
    plain = open(key, Buffer.from(bytes).subarray(1), aad(purpose));
  } catch {
    throw new IntegrityError(objectKey, `${objectKey}: does not authenticate (altered, or not written with this repository's keys)`);
  }
  try {
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    throw new IntegrityError(objectKey, `${objectKey}: not JSON`);
  }
}

/** Writes one side object under `prefix` (ending in "/"); returns its id. */
export async function putSideObject(repo: Repository, prefix: string, purpose: string, value: unknown): Promise<string> {
  const bytes = sealSideObject(repo.derivedKey(purpose), purpose, value);
  const id = createHash('sha256').update(bytes).digest('hex');
  try {
    await repo.storage.put(`${prefix}${id}`, bytes, repo.putOptions());
  } catch (e) {
    if (!isStorageError(e, 'already-exists')) throw e;
  }
  return id;
}

/** The ids of the side objects under `prefix`. */
export async function listSideObjects(repo: Repository, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const o of repo.storage.list(prefix)) if (isHexId(idOfKey(o.key))) ids.push(idOfKey(o.key));
  return ids;
}

/** Reads and opens one side object, checking it against its name. */
export async function getSideObject<T>(repo: Repository, prefix: string, purpose: string, id: string): Promise<T> {
  const key = `${prefix}${id}`;
  const bytes = await repo.storage.get(key);
  if (createHash('sha256').update(bytes).digest('hex') !== id) throw new IntegrityError(key, `${key}: content does not match its name`);
  return openSideObject<T>(repo.derivedKey(purpose), purpose, bytes, key);
}
