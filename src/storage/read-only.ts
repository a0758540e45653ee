/**
 * A Storage that refuses every write: drills and checks open the repository through
 * it, so a bug (or a confused command) in those paths cannot alter the backup it is checking.
 * Refusals are 'permission' errors raised before any request is sent.
 * @module
 */
import { StorageError } from '../domain/errors.js';
import type { Storage } from './storage.js';

const readOnlyStorages = new WeakSet<Storage>();

/** Whether `storage` is a read-only wrapper (drills refuse to run on anything else). */
export function isReadOnly(storage: Storage): boolean {
  return readOnlyStorages.has(storage);
}

export function readOnly(inner: Storage): Storage {
  const refuse = (op: string, key: string) =>
    Promise.reject(new StorageError('permission', `${inner.location}: cannot ${op} ${key}: storage opened read-only`));
  const { objectLock } = inner;
  const storage: Storage = {
    get location() {
      return inner.location;
    },
    get capabilities() {
      return inner.capabilities;
    },
    put: (key) => refuse('write', key),
    get: (key) => inner.get(key),
    getRange: (key, offset, length, into) => inner.getRange(key, offset, length, into),
    stat: (key) => inner.stat(key),
    list: (prefix) => inner.list(prefix),
    delete: (key) => refuse('delete', key),
    close: () => inner.close(),
    ...(objectLock && { objectLock: () => objectLock.call(inner) }),
    ...(inner.extendRetention && { extendRetention: (key: string) => refuse('extend the retention of', key) }),
    ...(inner.retention && { retention: (key: string) => inner.retention!(key) }),
  };
  readOnlyStorages.add(storage);
  return storage;
}
