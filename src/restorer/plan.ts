/**
 * What a restore will do: the directories, files and links selected from a snapshot, and
 * for every pack the blobs it must deliver and where each goes (file and offset). Planning
 * by pack lets the restorer fetch every pack once, whatever the number of files sharing it.
 * @module
 */
import * as path from 'node:path';
import { UsageError } from '../domain/errors.js';
import type { BlobId, PackId } from '../domain/ids.js';
import type { IndexedBlob } from '../repository/blob-index.js';
import type { Repository } from '../repository/repository.js';
import type { TreeNode } from '../repository/tree.js';

export interface PlannedItem {
  /** path inside the snapshot, absolute ("/srv/data/a.txt") */
  readonly snapshotPath: string;
  readonly node: TreeNode;
}

export type PlannedFile = PlannedItem;

export interface BlobTarget {
  readonly file: PlannedFile;
  readonly offset: number;
}

export interface PackPlan {
  readonly packId: PackId;
  /** distinct blobs of this pack that are needed, by offset in the pack */
  readonly blobs: { readonly blob: IndexedBlob; readonly targets: BlobTarget[] }[];
}

export interface RestorePlan {
  readonly dirs: PlannedItem[];
  readonly files: PlannedFile[];
  readonly symlinks: PlannedItem[];
  readonly totalBytes: number;
}

/**
 * Walks the snapshot from its root tree. An include path selects that item and everything
 * below it; its ancestors are restored as directories too. Unknown includes are an error.
 */
export async function planItems(repo: Repository, rootTree: BlobId, includes: readonly string[]): Promise<RestorePlan> {
  const plan = { dirs: [] as PlannedItem[], files: [] as PlannedFile[], symlinks: [] as PlannedItem[] };
  const wanted = includes.map((p) => path.posix.resolve('/', p));
  const found = new Set<string>();
  const selected = (p: string) => wanted.length === 0 || wanted.some((w) => p === w || p.startsWith(`${w}/`));
  const onTheWay = (p: string) => wanted.some((w) => w.startsWith(`${p}/`));

  const walk = async (treeId: BlobId, dir: string): Promise<void> => {
    const tree = await repo.readTree(treeId);
    for (const node of tree.nodes) {
      const p = path.posix.join(dir, node.name);
      const take = selected(p);
      if (take) for (const w of wanted) if (w === p) found.add(w);
      if (node.type === 'dir') {
        if (take || onTheWay(p)) plan.dirs.push({ snapshotPath: p, node });
        if ((take || onTheWay(p)) && node.subtree) await walk(node.subtree, p);
      } else if (take && node.type === 'symlink') {
        plan.symlinks.push({ snapshotPath: p, node });
      } else if (take && node.type === 'file') {
        plan.files.push({ snapshotPath: p, node });
      }
    }
  };
  await walk(rootTree, '/');
  const missing = wanted.filter((w) => !found.has(w));
  if (missing.length) throw new UsageError(`not in the snapshot: ${missing.join(', ')}`);
  return { ...plan, totalBytes: plan.files.reduce((n, f) => n + (f.node.size ?? 0), 0) };
}

/**
 * Groups the blobs of the planned files by pack, with each blob's offset in its files.
 * Files with a blob missing from the index are returned apart, with that blob.
 */
export function planPacks(repo: Repository, files: PlannedFile[]): { packs: PackPlan[]; unknown: Map<PlannedFile, BlobId> } {
  const byPack = new Map<PackId, Map<BlobId, { blob: IndexedBlob; targets: BlobTarget[] }>>();
  const unknown = new Map<PlannedFile, BlobId>();
  for (const file of files) {
    let at = 0;
    for (const id of file.node.content ?? []) {
      const blob = repo.index.lookup(id);
      if (!blob) {
        unknown.set(file, id);
        break;
      }
      let blobs = byPack.get(blob.packId);
      if (!blobs) byPack.set(blob.packId, (blobs = new Map()));
      let entry = blobs.get(id);
      if (!entry) blobs.set(id, (entry = { blob, targets: [] }));
      entry.targets.push({ file, offset: at });
      at += blob.rawLength;
    }
  }
  const packs: PackPlan[] = [];
  for (const [packId, blobs] of byPack) {
    packs.push({ packId, blobs: [...blobs.values()].sort((a, b) => a.blob.offset - b.blob.offset) });
  }
  return { packs, unknown };
}
