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
import { deriveKey, newKdfParams, SALT_BYTES, type KdfParams, type KdfChoice } from '../crypto/kdf.js';

export interface MasterKeys {
  /** Seals blobs, pack headers, indexes, snapshots and the config. */
  readonly dataKey: Buffer;
  /** Keys the HMAC that names blobs. Separate so a future write-only agent can hold it alone. */
  readonly idKey: Buffer;
}

/**
 * What a write-only key file holds instead (docs/FORMAT.md §10): enough to add backups and
 * deduplicate, nothing that decrypts them.
 */
export interface WriteOnlyKeys {
  readonly idKey: Buffer;
  /** the repository's session public key (X25519) */
  readonly sessionPublicKey: Buffer;
  /** the repository config's plaintext JSON (the agent cannot open the sealed `config`) */
  readonly config: Buffer;
}

export type UnlockedKeys = { readonly kind: 'full'; readonly keys: MasterKeys } | { readonly kind: 'write-only'; readonly keys: WriteOnlyKeys };

export interface KeyFile {
  readonly version: 1;
  /** absent for a full key; "write-only" for an agent's key (§10) */
  readonly kind?: 'write-only';
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
  keys: MasterKeys | WriteOnlyKeys,
  password: Uint8Array,
  repositoryId: string,
  opts: { profile: KdfChoice; label: string },
): Promise<{ id: KeyId; bytes: Buffer; file: KeyFile }> {
  const kdf = newKdfParams(opts.profile, randomBytes(SALT_BYTES));
  const kek = await deriveKey(password, kdf, KEY_BYTES);
  const writeOnly = 'sessionPublicKey' in keys;
  const plain = Buffer.from(
    JSON.stringify(
      writeOnly
        ? { idKey: keys.idKey.toString('base64'), sessionPublicKey: keys.sessionPublicKey.toString('base64'), config: keys.config.toString('base64') }
        : { dataKey: keys.dataKey.toString('base64'), idKey: keys.idKey.toString('base64') },
    ),
  );
  const file: KeyFile = {
    version: 1,
    ...(writeOnly ? { kind: 'write-only' as const } : {}),
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
    if (f.kind !== undefined && f.kind !== 'write-only') throw new Error();
    return f;
  } catch {
    throw new IntegrityError(objectKey, `${objectKey}: not a valid key file`);
  }
}

/** The keys a key file wraps, or undefined if the passphrase does not open it. */
export async function unlockKeyFile(file: KeyFile, password: Uint8Array): Promise<UnlockedKeys | undefined> {
  const kek = await deriveKey(password, file.kdf, KEY_BYTES);
  try {
    const plain = open(kek, Buffer.from(file.keys, 'base64'), keyFileAad(file.repositoryId));
    const k = JSON.parse(plain.toString('utf8')) as Record<string, string>;
    plain.fill(0);
    const b64 = (name: string) => {
      const v = k[name];
      if (typeof v !== 'string') throw new IntegrityError('key file', `key file of ${file.repositoryId.slice(0, 8)}: no ${name}`);
      return Buffer.from(v, 'base64');
    };
    if (file.kind === 'write-only') {
      return { kind: 'write-only', keys: { idKey: b64('idKey'), sessionPublicKey: b64('sessionPublicKey'), config: b64('config') } };
    }
    return { kind: 'full', keys: { dataKey: b64('dataKey'), idKey: b64('idKey') } };
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
