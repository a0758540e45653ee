/**
 * Resuming after a crash (DESIGN invariant 5). A killed backup leaves packs that are
 * stored but named by no index object: readers ignore them and the next backup would
 * upload their blobs again. Two ways to find them:
 *
 * - with a catalog, the write session journals each pack just before its upload and
 *   again once it is stored (the PackJournal below); the next run checks that each exists
 *   with the recorded size — a pack whose upload was cut short is simply forgotten — and
 *   writes one index object for them before backing up;
 * - without one, `findUnindexedPacks` lists `data/` and reads the header of every pack no
 *   index object names (docs/FORMAT.md §8: the header is enough to index it again).
 *
 * Either way the repository only gains an index object: nothing is deleted (invariant 6).
 * @module
 */
import { describeError, isStorageError } from '../domain/errors.js';
import { isHexId, type PackId } from '../domain/ids.js';
import type { IndexedPack } from './index-file.js';
import { DATA_PREFIX, idOfKey, packKey } from './layout.js';
import { forEachLimited, type Repository } from './repository.js';

/** Packs recorded as stored but not yet in any index object (the catalog implements it). */
export interface PackJournal {
  /** Packs whose upload began, with no record of its end (the process was killed meanwhile). */
  startedUploads(): IndexedPack[];
  /** Forgets started uploads (found not stored, or recorded as stored by `BlobIndex.addPacks`). */
  forgetUploads(ids: readonly PackId[]): void;
  unindexedPacks(): IndexedPack[];
  /** Forgets packs that turned out not to be stored (the upload never completed). */
  forgetPacks(ids: readonly PackId[]): void;
  /** Whether the pack is known at all (indexed or journaled). */
  hasPack(id: PackId): boolean;
}

export interface ResumeResult {
  /** packs written into a new index object */
  readonly adopted: number;
  readonly bytes: number;
  /** journaled packs not found in storage (or with another size), forgotten */
  readonly missing: number;
  readonly indexId: string | undefined;
}

/**
 * Writes an index object for the journaled packs that are in storage with the recorded
 * size, and forgets the others. Call with the writer lock held, before a backup, after
 * `loadIndex` (a pack another index object already names needs nothing).
 */
export async function indexJournaledPacks(repo: Repository, journal: PackJournal): Promise<ResumeResult> {
  // Uploads cut short by the kill: stored after all (the answer never arrived), or not at all.
  const started = journal.startedUploads();
  if (started.length) {
    const arrived: IndexedPack[] = [];
    await forEachLimited(started, 8, async (p) => {
      if ((await storedSize(repo, p.packId)) === p.size) arrived.push(p);
    });
    if (arrived.length) repo.index.addPacks(arrived);
    journal.forgetUploads(started.map((p) => p.packId));
  }
  const packs = journal.unindexedPacks();
  if (packs.length === 0) return { adopted: 0, bytes: 0, missing: 0, indexId: undefined };
  const present: IndexedPack[] = [];
  const gone: PackId[] = [];
  await forEachLimited(packs, 8, async (p) => {
    if ((await storedSize(repo, p.packId)) === p.size) present.push(p);
    else gone.push(p.packId);
  });
  if (gone.length) journal.forgetPacks(gone);
  if (present.length === 0) return { adopted: 0, bytes: 0, missing: gone.length, indexId: undefined };
  const indexId = await repo.saveIndex({ supersedes: [], packs: present });
  repo.index.addPacks(present, indexId);
  return { adopted: present.length, bytes: present.reduce((n, p) => n + p.size, 0), missing: gone.length, indexId };
}

async function storedSize(repo: Repository, id: PackId): Promise<number | undefined> {
  try {
    return (await repo.storage.stat(packKey(id))).size;
  } catch (e) {
    if (isStorageError(e, 'not-found')) return undefined;
    throw e;
  }
}

export interface OrphanScan {
  /** packs in storage that no index object and no journal entry names, with their headers */
  readonly packs: readonly IndexedPack[];
  /** packs whose header could not be read (damaged or truncated): left alone, `check` names them */
  readonly unreadable: readonly { packId: PackId; reason: string }[];
  readonly scanned: number;
}

/** Lists `data/` and reads the header of every pack `known` does not know. Reads only. */
export async function findUnindexedPacks(repo: Repository, known: (id: PackId) => boolean): Promise<OrphanScan> {
  const candidates: { id: PackId; size: number }[] = [];
  let scanned = 0;
  for await (const o of repo.storage.list(DATA_PREFIX)) {
    const id = idOfKey(o.key);
    if (!isHexId(id)) continue;
    scanned++;
    if (!known(id as PackId)) candidates.push({ id: id as PackId, size: o.size });
  }
  const packs: IndexedPack[] = [];
  const unreadable: { packId: PackId; reason: string }[] = [];
  await forEachLimited(candidates, 8, async (c) => {
    try {
      packs.push({ packId: c.id, size: c.size, blobs: await repo.readPackHeader(c.id, c.size) });
    } catch (e) {
      if (isStorageError(e) && e.kind !== 'not-found') throw e;
      unreadable.push({ packId: c.id, reason: describeError(e) });
    }
  });
  return { packs, unreadable, scanned };
}
