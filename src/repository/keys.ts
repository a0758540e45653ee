/**
 * Listing and removing key files. Removing is an admin act (never part of a backup):
 * it refuses to remove the key in use, the last one, and any key of an Object Lock
 * repository.
 * @module
 */
import { UsageError } from '../domain/errors.js';
import { isHexId, type KeyId } from '../domain/ids.js';
import { listAll, type Storage } from '../storage/storage.js';
import type { ObjectLockPolicy } from './config.js';
import { parseKeyFile } from './keyfile.js';
import { idOfKey, keyFileKey, KEYS_PREFIX } from './layout.js';
import { byCodeUnits } from '../util/order.js';

export interface KeyInfo {
  readonly id: KeyId;
  readonly label: string;
  readonly created: string;
  readonly host: string;
  readonly username: string;
  readonly kdf: string;
  /** full: opens everything; write-only: an agent's key (docs/FORMAT.md §10) */
  readonly kind: 'full' | 'write-only';
}

export async function listKeys(storage: Storage): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  for (const o of await listAll(storage, KEYS_PREFIX)) {
    const id = idOfKey(o.key);
    if (!isHexId(id)) continue;
    const f = parseKeyFile(await storage.get(o.key), o.key);
    const mib = Math.round(f.kdf.memLimit / 1048576);
    out.push({ id: id as KeyId, label: f.label, created: f.created, host: f.host, username: f.username, kdf: `argon2id ops=${f.kdf.opsLimit} mem=${mib}MiB`, kind: f.kind ?? 'full' });
  }
  return out.sort((a, b) => byCodeUnits(a.created, b.created));
}

export async function removeKey(storage: Storage, ref: string, inUse: KeyId, objectLock: ObjectLockPolicy | null): Promise<KeyId> {
  refuseKeyRemovalUnderLock(objectLock, 'cannot remove a key file');
  const keys = await listKeys(storage);
  const matches = keys.filter((k) => k.id.startsWith(ref));
  if (ref.length < 4 || matches.length !== 1) throw new UsageError(`no unique key file matches "${ref}"`);
  const id = matches[0]!.id;
  if (id === inUse) throw new UsageError(`key ${id.slice(0, 8)} is the one in use; open the repository with another passphrase to remove it`);
  if (keys.length < 2) throw new UsageError('refusing to remove the last key file');
  // Write-only keys cannot read anything: without a full key the backups are lost.
  if (matches[0]!.kind === 'full' && keys.filter((k) => k.kind === 'full').length < 2) {
    throw new UsageError('refusing to remove the last full key file (the other keys are write-only and cannot restore)', {
      hint: 'add another passphrase first with "coffre key add"',
    });
  }
  await storage.delete(keyFileKey(id));
  return id;
}

/**
 * Key files of an Object Lock repository are locked like every other object: a DeleteObject
 * is refused, or only hides the file behind a delete marker while its locked version still
 * opens the repository for anyone who can read versions. Reporting that as "removed" would
 * make an admin believe a leaked passphrase is revoked, so it is refused before any request.
 */
export function refuseKeyRemovalUnderLock(objectLock: ObjectLockPolicy | null, what: string): void {
  if (!objectLock) return;
  throw new UsageError(
    `${what}: every object of this repository is under S3 Object Lock (${objectLock.mode}, ${plural(objectLock.days, 'day')}), key files included, so a deleted key file would stay readable as a locked version`,
    { hint: 'a passphrase of an Object Lock repository stays valid; to retire one, move to a new repository' },
  );
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
