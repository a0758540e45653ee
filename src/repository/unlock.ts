/**
 * Unlocking a repository: fetch its config and find the key file the passphrase opens.
 * A module of its own, light (no codecs, no workers, no catalog), so that a command can
 * start Argon2id — a large part of its fixed cost, on a libuv thread — before loading the
 * rest of the engine, which then loads while the KDF runs (see app/repo.ts).
 * @module
 */
import { isStorageError, RepositoryNotFoundError, WrongPasswordError } from '../domain/errors.js';
import { isHexId, type KeyId } from '../domain/ids.js';
import type { Storage } from '../storage/storage.js';
import { parseKeyFile, unlockKeyFile, type KeyFile, type UnlockedKeys } from './keyfile.js';
import { CONFIG_KEY, idOfKey, keyFileKey, KEYS_PREFIX } from './layout.js';

/**
 * The key file to try first for a repository id (as its key files state it): usually the
 * one that opened it last time on this machine. Only the order of the trials changes.
 */
export type FirstKey = (repositoryId: string) => KeyId | undefined;

export interface Unlocked {
  /** the `config` object as stored (sealed with the data key) */
  readonly configBytes: Uint8Array;
  readonly keys: UnlockedKeys;
  /** the key file that opened the repository */
  readonly keyId: KeyId;
  /** the repository id the key file states (checked against the config when opening) */
  readonly repositoryId: string;
}

export async function unlockRepository(storage: Storage, password: Uint8Array, firstKey?: FirstKey): Promise<Unlocked> {
  return unlockWith(storage, await readLocks(storage), password, firstKey);
}

/** What unlocking needs from storage: the config and every key file. */
export interface Locks {
  readonly configBytes: Uint8Array;
  readonly keyFiles: KeyFiles;
}

/** A few small reads: the config, and the key files while it is fetched (a missing config is reported first). */
export async function readLocks(storage: Storage): Promise<Locks> {
  const keyFiles = readKeyFiles(storage);
  keyFiles.catch(() => undefined);
  const configBytes = await storage.get(CONFIG_KEY).catch((e: unknown) => {
    if (isStorageError(e, 'not-found')) {
      throw new RepositoryNotFoundError(`no repository at ${storage.location}`, { hint: 'create one with "coffre init"' });
    }
    throw e;
  });
  return { configBytes, keyFiles: await keyFiles };
}

/** Tries the passphrase on the key files; the first Argon2id run starts before this returns. */
export async function unlockWith(storage: Storage, locks: Locks, password: Uint8Array, firstKey?: FirstKey): Promise<Unlocked> {
  return { configBytes: locks.configBytes, ...(await unlock(storage, password, locks.keyFiles, firstKey)) };
}

/**
 * Finds the key file the passphrase opens. Every key file is read first (they are small,
 * and public), so that the Argon2id trials can go in the order most likely to succeed at
 * once: `firstKey` (the key file that opened the repository last time on this machine),
 * then the others in listing order with recovery keys last — the printed recovery key is
 * the passphrase least likely to be typed. Each trial costs a full KDF, so a wrong first
 * guess doubles the cost of opening. Only the order changes: a wrong passphrase still
 * tries every key file, and a damaged key file fails the open only when it is reached.
 */
async function unlock(storage: Storage, password: Uint8Array, { ids, files }: KeyFiles, firstKey?: FirstKey): Promise<Omit<Unlocked, 'configBytes'>> {
  if (ids.length === 0) throw new RepositoryNotFoundError(`no key files in ${storage.location}/keys`);
  for (const id of trialOrder(ids, files, firstKey)) {
    const file = files.get(id)!;
    if (file instanceof Error) throw file;
    const keys = await unlockKeyFile(file, password);
    if (keys) return { keys, keyId: id, repositoryId: file.repositoryId };
  }
  throw new WrongPasswordError(`wrong passphrase: it opens none of the ${ids.length} key file(s) of ${storage.location}`);
}

interface KeyFiles {
  /** in listing order */
  readonly ids: readonly KeyId[];
  /** each parsed, or why it could not be read (thrown only if its turn comes) */
  readonly files: ReadonlyMap<KeyId, KeyFile | Error>;
}

async function readKeyFiles(storage: Storage): Promise<KeyFiles> {
  const ids: KeyId[] = [];
  for await (const o of storage.list(KEYS_PREFIX)) {
    const id = idOfKey(o.key);
    if (isHexId(id)) ids.push(id as KeyId);
  }
  // A handful of small files (one per passphrase): fetched all at once.
  const read = await Promise.all(
    ids.map((id) =>
      storage
        .get(keyFileKey(id))
        .then((bytes) => parseKeyFile(bytes, keyFileKey(id)))
        .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
    ),
  );
  return { ids, files: new Map(ids.map((id, i) => [id, read[i]!])) };
}

/** The order of `unlock`'s trials (see there); stable otherwise, so the listing order decides ties. */
export function trialOrder(ids: readonly KeyId[], files: ReadonlyMap<KeyId, KeyFile | Error>, firstKey?: FirstKey): KeyId[] {
  const anyFile = [...files.values()].find((f): f is KeyFile => !(f instanceof Error));
  const first = anyFile && firstKey?.(anyFile.repositoryId);
  const rank = (id: KeyId): number => {
    if (id === first) return 0;
    const f = files.get(id);
    return f && !(f instanceof Error) && f.label === 'recovery' ? 2 : 1;
  };
  return ids.map((id, i) => ({ id, i, r: rank(id) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.id);
}
