/**
 * What the snapshots use: every tree and data blob reachable from every snapshot present
 * now, marked in the workspace (on disk). Trees are walked once each, several at a time.
 *
 * A tree that cannot be read stops the prune: its subtrees and files are unknown, so any
 * deletion could destroy what it references. A data blob no index names is only counted
 * (the snapshot is already damaged; `check` reports it; deleting cannot make it worse).
 * @module
 */
import { IntegrityError } from '../domain/errors.js';
import type { BlobId, SnapshotId } from '../domain/ids.js';
import { packKey } from '../repository/layout.js';
import type { Repository } from '../repository/repository.js';
import { decodeTree, type Tree } from '../repository/tree.js';
import type { PruneWorkspace } from './workspace.js';

export interface References {
  readonly snapshots: number;
  readonly trees: number;
  /** data blobs referenced but in no index object */
  readonly missingBlobs: number;
}

const CONCURRENCY = 8;

export async function markReferences(repo: Repository, ws: PruneWorkspace, snapshotIds: readonly SnapshotId[]): Promise<References> {
  const stack: BlobId[] = [];
  let trees = 0;
  let missingBlobs = 0;
  for (const id of snapshotIds) {
    const s = await repo.readSnapshot(id);
    ws.markUsed(s.tree);
    if (ws.markWalked(s.tree)) stack.push(s.tree);
  }
  const readTree = async (id: BlobId): Promise<Tree> => {
    if (repo.index.lookup(id)) return repo.readTree(id);
    // Not in the blob index readers use (its pack is hidden by a prune plan, or a concurrent
    // backup's index is newer than ours): read it where the workspace knows it is.
    const b = ws.lookup(id);
    if (!b) throw new IntegrityError(`tree ${id}`, `prune stopped: tree ${id.slice(0, 8)} is in no index object, so what it references is unknown (run "coffre check")`);
    const sealed = await repo.storage.getRange(packKey(b.packId), b.offset, b.length);
    return decodeTree(await repo.openBlob(b, sealed), `tree ${id}`);
  };
  const worker = async () => {
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      const tree = await readTree(id);
      trees++;
      ws.batch(() => {
        for (const n of tree.nodes) {
          if (n.subtree) {
            ws.markUsed(n.subtree);
            if (ws.markWalked(n.subtree)) stack.push(n.subtree);
          }
          for (const c of n.content ?? []) {
            if (ws.markUsed(c) && !ws.hasEntry(c)) missingBlobs++;
          }
        }
      });
    }
  };
  // Workers stop when the stack is momentarily empty; rerun until nothing is left.
  while (stack.length > 0) await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { snapshots: snapshotIds.length, trees, missingBlobs };
}
