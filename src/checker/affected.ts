/**
 * From damaged blobs to what an admin cares about: which files of which snapshots can no
 * longer be restored.
 * @module
 */
import * as path from 'node:path';
import type { BlobId } from '../domain/ids.js';
import type { Repository, SnapshotEntry } from '../repository/repository.js';

/** At most this many paths are listed per snapshot; the count is always exact. */
const MAX_PATHS = 50;

export async function affectedFiles(
  repo: Repository,
  snapshots: readonly SnapshotEntry[],
  damaged: ReadonlySet<BlobId>,
): Promise<{ snapshot: string; paths: string[]; count: number }[]> {
  const out: { snapshot: string; paths: string[]; count: number }[] = [];
  for (const s of snapshots) {
    const paths: string[] = [];
    let count = 0;
    const walk = async (treeId: BlobId, dir: string): Promise<void> => {
      if (damaged.has(treeId)) {
        count++;
        if (paths.length < MAX_PATHS) paths.push(`${dir} (directory listing)`);
        return;
      }
      let tree;
      try {
        tree = await repo.readTree(treeId);
      } catch {
        count++;
        if (paths.length < MAX_PATHS) paths.push(`${dir} (directory listing)`);
        return;
      }
      for (const n of tree.nodes) {
        const p = path.posix.join(dir, n.name);
        if (n.type === 'dir' && n.subtree) await walk(n.subtree, p);
        else if (n.content?.some((c) => damaged.has(c))) {
          count++;
          if (paths.length < MAX_PATHS) paths.push(p);
        }
      }
    };
    await walk(s.snapshot.tree, '/');
    if (count > 0) out.push({ snapshot: s.id, paths, count });
  }
  return out;
}
