/**
 * From damaged blobs to what an admin cares about: which files of which snapshots can no
 * longer be restored, per damaged object. One walk over all snapshots: a subtree found
 * clean is not walked again for the next snapshot (most of a snapshot's trees are shared
 * with its neighbours), and trees are read several at a time.
 * @module
 */
import * as path from 'node:path';
import type { BlobId } from '../domain/ids.js';
import { packKey } from '../repository/layout.js';
import type { Repository, SnapshotEntry } from '../repository/repository.js';
import { TreeLoader } from '../repository/tree-loader.js';

/** At most this many paths are listed per snapshot and object; the count is always exact. */
const MAX_PATHS = 50;
/** Paths collected before sorting and trimming to MAX_PATHS (bounds memory for huge damage). */
const COLLECT_PATHS = 10_000;

export interface Affected {
  readonly snapshot: string;
  readonly paths: string[];
  readonly count: number;
}

/**
 * For each damaged object, the snapshots and files it costs. `damage` maps every damaged
 * blob to the objects blamed for it (a pack, an index object, "index" for blobs in no index).
 */
export async function affectedByObject(
  repo: Repository,
  snapshots: readonly SnapshotEntry[],
  damage: ReadonlyMap<BlobId, readonly string[]>,
): Promise<Map<string, Affected[]>> {
  const loader = new TreeLoader(repo);
  const clean = new Set<BlobId>();
  const out = new Map<string, Affected[]>();
  for (const s of snapshots) {
    const found = new Map<string, { paths: string[]; count: number }>();
    const hit = (object: string, p: string) => {
      let f = found.get(object);
      if (!f) found.set(object, (f = { paths: [], count: 0 }));
      f.count++;
      if (f.paths.length < COLLECT_PATHS) f.paths.push(p);
    };
    const walk = async (treeId: BlobId, dir: string): Promise<boolean> => {
      if (clean.has(treeId)) return false;
      const listing = `${dir} (directory listing)`;
      const blamed = damage.get(treeId);
      if (blamed) {
        for (const o of blamed) hit(o, listing);
        return true;
      }
      let tree;
      try {
        tree = await loader.read(treeId);
      } catch {
        const b = repo.index.lookup(treeId);
        hit(b ? packKey(b.packId) : 'index', listing);
        return true;
      }
      let any = false;
      const subdirs: Promise<boolean>[] = [];
      for (const n of tree.nodes) {
        const p = path.posix.join(dir, n.name);
        if (n.type === 'dir' && n.subtree) subdirs.push(walk(n.subtree, p));
        else if (n.content) {
          const objects = new Set<string>();
          for (const c of n.content) for (const o of damage.get(c) ?? []) objects.add(o);
          for (const o of objects) hit(o, p);
          if (objects.size) any = true;
        }
      }
      for (const r of await Promise.all(subdirs)) any ||= r;
      if (!any) clean.add(treeId);
      return any;
    };
    await walk(s.snapshot.tree, '/');
    for (const [object, f] of found) {
      let list = out.get(object);
      if (!list) out.set(object, (list = []));
      list.push({ snapshot: s.id, paths: f.paths.sort().slice(0, MAX_PATHS), count: f.count });
    }
  }
  return out;
}
