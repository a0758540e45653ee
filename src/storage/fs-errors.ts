/**
 * A file-system error as a storage failure: what the local backend reports for its objects,
 * and what a worker reports when the pack file it fills cannot be written.
 * @module
 */
import { StorageError, type StorageErrorKind } from '../domain/errors.js';

const KINDS: Readonly<Record<string, StorageErrorKind>> = {
  ENOENT: 'not-found',
  ENOTDIR: 'not-found',
  EEXIST: 'already-exists',
  EACCES: 'permission',
  EPERM: 'permission',
  EROFS: 'permission',
  ENOSPC: 'no-space',
  EDQUOT: 'no-space',
  EIO: 'other',
  EMFILE: 'transient',
  ENFILE: 'transient',
  EAGAIN: 'transient',
};

/** `where` names the file or object; a StorageError passes through unchanged. */
export function fsStorageError(e: unknown, where: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const kind: StorageErrorKind = (code !== undefined ? KINDS[code] : undefined) ?? 'other';
  const what = kind === 'already-exists' ? 'object already exists' : (e as Error)?.message ?? String(e);
  return new StorageError(kind, `${where}: ${what}`, { cause: e });
}
