/**
 * Where each kind of object lives in storage (docs/FORMAT.md, "Object layout").
 * Every name except `config` is the SHA-256 of the object's bytes, so nothing is ever
 * written twice under one name and storage can check an object against its name.
 * @module
 */
import type { IndexId, KeyId, PackId, SnapshotId } from '../domain/ids.js';

export const CONFIG_KEY = 'config';
export const KEYS_PREFIX = 'keys/';
export const DATA_PREFIX = 'data/';
export const INDEX_PREFIX = 'index/';
export const SNAPSHOTS_PREFIX = 'snapshots/';
/** Two-phase deletion plans written by prune (docs/FORMAT.md §11). */
export const PRUNE_PREFIX = 'prune/';

export const keyFileKey = (id: KeyId): string => `${KEYS_PREFIX}${id}`;
/** Packs are fanned out over 256 directories so no listing or directory grows unbounded. */
export const packKey = (id: PackId): string => `${DATA_PREFIX}${id.slice(0, 2)}/${id}`;
export const indexKey = (id: IndexId): string => `${INDEX_PREFIX}${id}`;
export const snapshotKey = (id: SnapshotId): string => `${SNAPSHOTS_PREFIX}${id}`;
export const prunePlanKey = (id: string): string => `${PRUNE_PREFIX}${id}`;

/** The id part of a key under one of the prefixes above (the last path segment). */
export function idOfKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
