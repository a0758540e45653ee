/**
 * What `coffre status` must say about the repository but cannot learn without the storage
 * or the passphrase: its location (to find its catalog at all), Object Lock, how many key
 * files exist, and how much deduplication and compression save. Writers record them in the
 * catalog while they hold the repository open (at open, and after each backup); status
 * shows them with their age. One LIST of `keys/` and one pass over the blob table: cheap
 * next to a backup, and never allowed to fail one.
 * @module
 */
import type { Catalog } from '../catalog/catalog.js';
import { META_FACTS, META_LOCATION, type RecordedFacts } from '../catalog/reader.js';
import { describeError } from '../domain/errors.js';
import { isHexId } from '../domain/ids.js';
import { idOfKey, KEYS_PREFIX } from '../repository/layout.js';
import type { Repository } from '../repository/repository.js';
import { describeLocation } from '../storage/open-storage.js';
import { listAll } from '../storage/storage.js';

/** Records the location the catalog's repository is reached at (cheap: written only when it changes). */
export function recordLocation(catalog: Catalog, location: string): void {
  const where = describeLocation(location);
  if (catalog.getMeta(META_LOCATION) !== where) catalog.setMeta(META_LOCATION, where);
}

export async function recordRepositoryFacts(repo: Repository, catalog: Catalog, now = Date.now): Promise<RecordedFacts> {
  const keys = await listAll(repo.storage, KEYS_PREFIX);
  const blobs = catalog.db
    .prepare<[], { n: number; raw: number; stored: number }>('SELECT count(*) AS n, coalesce(sum(raw_length), 0) AS raw, coalesce(sum(length), 0) AS stored FROM blobs WHERE type = 0')
    .get()!;
  const lock = repo.config.objectLock;
  const facts: RecordedFacts = {
    recordedAt: now(),
    objectLock: lock ? { mode: lock.mode, days: lock.days } : null,
    keyFiles: keys.filter((k) => isHexId(idOfKey(k.key))).length,
    dataBlobs: blobs.n,
    uniqueBytes: blobs.raw,
    encodedBytes: blobs.stored,
  };
  catalog.setMeta(META_FACTS, JSON.stringify(facts));
  return facts;
}

/** As above, for callers that must not fail because of it: a problem becomes a notice. */
export async function tryRecordRepositoryFacts(repo: Repository, catalog: Catalog, notice?: (m: string) => void): Promise<void> {
  try {
    await recordRepositoryFacts(repo, catalog);
  } catch (e) {
    notice?.(`could not record the repository's facts for "coffre status": ${describeError(e)}`);
  }
}

/**
 * A writer has the repository open: record where it is, and its facts if none are recorded
 * yet (backups refresh them after each run). Never fails the command.
 */
export async function recordContact(repo: Repository, catalog: Catalog, location: string, notice?: (m: string) => void): Promise<void> {
  try {
    recordLocation(catalog, location);
    if (catalog.getMeta(META_FACTS) === undefined) await recordRepositoryFacts(repo, catalog);
  } catch (e) {
    notice?.(`could not record the repository's location and facts for "coffre status": ${describeError(e)}`);
  }
}
