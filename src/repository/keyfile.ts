/**
 * Key files: the repository's random master keys, wrapped under a passphrase with
 * Argon2id (docs/FORMAT.md, "Key files"). One file per passphrase; all wrap the same
 * master keys, so adding or removing a passphrase never touches the data.
 * @module
 */
import { hostname, userInfo } from 'node:os';
import { createHash } from 'node:crypto';
import { IntegrityError } from '../domain/errors.js';
import { idFromBytes, type KeyId } from '../domain/ids.js';
import { AuthenticationError, KEY_BYTES, open, randomBytes, seal } from '../crypto/aead.js';
import { deriveKey, newKdfParams, SALT_BYTES, type KdfParams, type KdfProfile } from '../crypto/kdf.js';

export interface MasterKeys {
  /** Seals blobs, pack headers, indexes, snapshots and the config. */
  readonly dataKey: Buffer;
  /** Keys the HMAC that names blobs. Separate so a future write-only agent can hold it alone. */
  readonly idKey: Buffer;
}

export interface KeyFile {
  readonly version: 1;
  readonly created: string;
  readonly host: string;
  readonly username: string;
  readonly label: string;
  readonly repositoryId: string;
  readonly kdf: KdfParams;
  /** base64: nonce ‖ XChaCha20-Poly1305(KEK, {"dataKey","idKey"} JSON) */
  readonly keys: string;
}

export function newMasterKeys(): MasterKeys {
  return { dataKey: randomBytes(KEY_BYTES), idKey: randomBytes(KEY_BYTES) };
}

const keyFileAad = (repositoryId: string) => Buffer.from(`coffre/v1/keyfile\0${repositoryId}`, 'latin1');

export async function createKeyFile(
  keys: MasterKeys,
  password: Uint8Array,
  repositoryId: string,
  opts: { profile: KdfProfile; label: string },
): Promise<{ id: KeyId; bytes: Buffer; file: KeyFile }> {
  const kdf = newKdfParams(opts.profile, randomBytes(SALT_BYTES));
  const kek = await deriveKey(password, kdf, KEY_BYTES);
  const plain = Buffer.from(JSON.stringify({ dataKey: keys.dataKey.toString('base64'), idKey: keys.idKey.toString('base64') }));
  const file: KeyFile = {
    version: 1,
    created: new Date().toISOString(),
    host: hostname(),
    username: safeUsername(),
    label: opts.label,
    repositoryId,
    kdf,
    keys: seal(kek, plain, keyFileAad(repositoryId)).toString('base64'),
  };
  plain.fill(0);
  kek.fill(0);
  const bytes = Buffer.from(JSON.stringify(file, null, 2) + '\n', 'utf8');
  return { id: idFromBytes<KeyId>(createHash('sha256').update(bytes).digest()), bytes, file };
}

export function parseKeyFile(bytes: Uint8Array, objectKey: string): KeyFile {
  try {
    const f = JSON.parse(Buffer.from(bytes).toString('utf8')) as KeyFile;
    if (f.version !== 1 || typeof f.keys !== 'string' || typeof f.repositoryId !== 'string' || !f.kdf) throw new Error();
    return f;
  } catch {
    throw new IntegrityError(objectKey, `${objectKey}: not a valid key file`);
  }
}

/** The master keys, or undefined if the passphrase does not open this key file. */
export async function unlockKeyFile(file: KeyFile, password: Uint8Array): Promise<MasterKeys | undefined> {
  const kek = await deriveKey(password, file.kdf, KEY_BYTES);
  try {
    const plain = open(kek, Buffer.from(file.keys, 'base64'), keyFileAad(file.repositoryId));
    const k = JSON.parse(plain.toString('utf8')) as { dataKey: string; idKey: string };
    plain.fill(0);
    return { dataKey: Buffer.from(k.dataKey, 'base64'), idKey: Buffer.from(k.idKey, 'base64') };
  } catch (e) {
    if (e instanceof AuthenticationError) return undefined;
    throw e;
  } finally {
    kek.fill(0);
  }
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}
