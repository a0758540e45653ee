/**
 * Rebuilding the catalog from the repository alone (`coffre catalog rebuild`, and
 * automatically when a writer finds no complete catalog): the index mirror from the index
 * objects, every snapshot object, optionally every tree blob (so that find, diff and ls
 * need no pack reads), and the packs no index object names (a backup killed on a machine
 * whose catalog is gone), which the next backup indexes and reuses.
 *
 * Only reads from the repository. The file-change cache and the run history are local
 * memory: a rebuild keeps them (and the next backup re-checks every cached id against the
 * rebuilt index anyway).
 * @module
 */
import { hostname } from 'node:os';
import type { Catalog } from '../catalog/catalog.js';
import { describeError } from '../domain/errors.js';
import { packKey } from '../repository/layout.js';
import { forEachLimited, type Repository } from '../repository/repository.js';
import { findUnindexedPacks } from '../repository/resume.js';

export interface RebuildOptions {
  /** Forget the repository part of the catalog first (`coffre catalog rebuild`); else complete it. */
  readonly fromScratch: boolean;
  /** Also cache every tree blob (one ranged read per tree pack). */
  readonly trees: boolean;
  /** Also list `data/` and journal the packs no index object names (headers read). */
  readonly unindexedPacks: boolean;
  readonly onProgress?: (step: 'index' | 'snapshots' | 'trees' | 'packs', done: number, total: number) => void;
}

export interface RebuildResult {
  readonly indexObjects: number;
  readonly blobs: number;
  readonly snapshots: number;
  readonly trees: number;
  /** packs found in storage in no index object, journaled for the next backup */
  readonly unindexedPacks: number;
  /** packs whose header could not be read (`check` names them) */
  readonly unreadablePacks: readonly { packId: string; reason: string }[];
  readonly durationMs: number;
}

export async function rebuildCatalog(repo: Repository, catalog: Catalog, opts: RebuildOptions): Promise<RebuildResult> {
  const started = Date.now();
  const run = catalog.runs.start('rebuild', { pid: process.pid, host: hostname() });
  try {
    catalog.setMeta('rebuilt_at', undefined);
    if (opts.fromScratch) {
      catalog.index.clear();
      catalog.objects.clear();
    }
    await repo.loadIndex((d, t) => opts.onProgress?.('index', d, t));
    const snapshots = await repo.snapshots();
    catalog.objects.retainSnapshots(snapshots.map((s) => s.id));
    opts.onProgress?.('snapshots', snapshots.length, snapshots.length);
    // A write-only key can open neither trees nor pack headers: it keeps what its catalog has.
    const trees = opts.trees && !repo.writeOnly ? await cacheAllTrees(repo, catalog, opts.onProgress) : 0;
    let unindexed = 0;
    let unreadable: RebuildResult['unreadablePacks'] = [];
    if (opts.unindexedPacks && !repo.writeOnly) {
      const scan = await findUnindexedPacks(repo, (id) => catalog.index.hasPack(id));
      if (scan.packs.length) catalog.index.addPacks(scan.packs);
      unindexed = scan.packs.length;
      unreadable = scan.unreadable;
      opts.onProgress?.('packs', scan.scanned, scan.scanned);
    }
    catalog.setMeta('rebuilt_at', new Date().toISOString());
    const result: RebuildResult = {
      indexObjects: repo.index.mergedIndexes().size,
      blobs: catalog.index.blobCount(),
      snapshots: snapshots.length,
      trees,
      unindexedPacks: unindexed,
      unreadablePacks: unreadable,
      durationMs: Date.now() - started,
    };
    catalog.runs.finish(run, { result: 'ok' });
    return result;
  } catch (e) {
    catalog.runs.finish(run, { result: 'failed', error: describeError(e) });
    throw e;
  }
}

/**
 * Caches every tree blob the index knows: trees live in packs of their own (FORMAT §7), so
 * one ranged read per tree pack fetches them all; each blob is authenticated and checked
 * against its id as it is opened. Returns how many trees were added.
 */
async function cacheAllTrees(repo: Repository, catalog: Catalog, onProgress: RebuildOptions['onProgress']): Promise<number> {
  const byPack = [...catalog.index.blobsByPack('tree')];
  let added = 0;
  let done = 0;
  await forEachLimited(byPack, 4, async ([packId, all]) => {
    const blobs = all.filter((b) => !catalog.objects.hasTree(b.id));
    if (blobs.length) {
      const start = blobs.reduce((m, b) => Math.min(m, b.offset), Infinity);
      const end = blobs.reduce((m, b) => Math.max(m, b.offset + b.length), 0);
      const bytes = await repo.storage.getRange(packKey(packId), start, end - start);
      for (const b of blobs) {
        const plain = await repo.openBlob(b, bytes.subarray(b.offset - start, b.offset - start + b.length));
        catalog.objects.putTree(b.id, plain);
        added++;
      }
    }
    onProgress?.('trees', ++done, byPack.length);
  });
  return added;
}
