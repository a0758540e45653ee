/**
 * What a restore will do: the directories, files and links selected from a snapshot, and
 * for every pack the blobs it must deliver and where each goes (file and offset). Planning
 * by pack lets the restorer fetch every pack once, whatever the number of files sharing it.
 *
 * Trees are read several at a time (a TreeLoader): on S3 a sequential walk costs one round
 * trip per directory. The result is still in depth-first order, whatever order the reads
 * complete in.
 * @module
 */
import * as path from 'node:path';
import { UsageError } from '../domain/errors.js';
import type { BlobId, PackId } from '../domain/ids.js';
import type { IndexedBlob } from '../repository/blob-index.js';
import type { Repository } from '../repository/repository.js';
import { TreeLoader } from '../repository/tree-loader.js';
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
  /** every item in depth-first order, each directory before what it holds (tar order) */
  readonly order: PlannedItem[];
  readonly totalBytes: number;
}

export interface PlanOptions {
  /** Tree reads in flight (default 16). */
  readonly concurrency?: number;
}

type Segment = PlannedItem | Promise<Segment[]>;

/**
 * Walks the snapshot from its root tree. An include path selects that item and everything
 * below it; its ancestors are restored as directories too. Unknown includes are an error.
 */
export async function planItems(repo: Repository, rootTree: BlobId, includes: readonly string[], opts: PlanOptions = {}): Promise<RestorePlan> {
  const loader = new TreeLoader(repo, opts.concurrency);
  const wanted = new Set(includes.map((p) => path.posix.resolve('/', p)));
  const everything = wanted.size === 0 || wanted.has('/');
  const onTheWay = new Set<string>();
  for (const w of wanted) for (let p = path.posix.dirname(w); p !== '/'; p = path.posix.dirname(p)) onTheWay.add(p);
  const found = new Set<string>();

  const walk = async (treeId: BlobId, dir: string, under: boolean): Promise<Segment[]> => {
    const tree = await loader.read(treeId);
    const out: Segment[] = [];
    for (const node of tree.nodes) {
      const p = dir === '/' ? `/${node.name}` : `${dir}/${node.name}`;
      if (wanted.has(p)) found.add(p);
      const take = under || wanted.has(p);
      if (node.type === 'dir') {
        if (!take && !onTheWay.has(p)) continue;
        out.push({ snapshotPath: p, node });
        if (node.subtree) {
          const sub = walk(node.subtree, p, take);
          sub.catch(() => undefined); // awaited in order below; never an unhandled rejection meanwhile
          out.push(sub);
        }
      } else if (take) {
        out.push({ snapshotPath: p, node });
      }
    }
    return out;
  };

  const order: PlannedItem[] = [];
  const flatten = async (segments: Segment[]): Promise<void> => {
    for (const s of segments) {
      if (s instanceof Promise) await flatten(await s);
      else order.push(s);
    }
  };
  await flatten(await walk(rootTree, '/', everything));

  const missing = [...wanted].filter((w) => w !== '/' && !found.has(w));
  if (missing.length) throw new UsageError(`not in the snapshot: ${missing.join(', ')}`);
  const plan = { dirs: [] as PlannedItem[], files: [] as PlannedFile[], symlinks: [] as PlannedItem[], order };
  for (const item of order) {
    if (item.node.type === 'dir') plan.dirs.push(item);
    else if (item.node.type === 'file') plan.files.push(item);
    else plan.symlinks.push(item);
  }
  return { ...plan, totalBytes: plan.files.reduce((n, f) => n + (f.node.size ?? 0), 0) };
}

/** A plan for some of the files of another plan: those files, their directories, nothing else. */
export function subPlan(plan: RestorePlan, files: readonly PlannedFile[]): RestorePlan {
  const keepDirs = new Set<string>();
  for (const f of files) for (let p = path.posix.dirname(f.snapshotPath); p !== '/'; p = path.posix.dirname(p)) keepDirs.add(p);
  const keepFiles = new Set(files);
  const order = plan.order.filter((i) => (i.node.type === 'dir' ? keepDirs.has(i.snapshotPath) : keepFiles.has(i)));
  const dirs = order.filter((i) => i.node.type === 'dir');
  const kept = order.filter((i) => i.node.type === 'file');
  return { dirs, files: kept, symlinks: [], order, totalBytes: kept.reduce((n, f) => n + (f.node.size ?? 0), 0) };
}

/**
 * Groups the blobs of the planned files by pack, with each blob's offset in its files.
 * Files with a blob missing from the index are returned apart, with that blob. `present`
 * names, per file, the content pieces already in place (a resumed part file): they are
 * not fetched again.
 */
export function planPacks(
  repo: Repository,
  files: PlannedFile[],
  present: (f: PlannedFile) => ReadonlySet<number> | undefined = () => undefined,
): { packs: PackPlan[]; unknown: Map<PlannedFile, BlobId> } {
  const byPack = new Map<PackId, Map<BlobId, { blob: IndexedBlob; targets: BlobTarget[] }>>();
  const unknown = new Map<PlannedFile, BlobId>();
  for (const file of files) {
    const have = present(file);
    let at = 0;
    for (const [i, id] of (file.node.content ?? []).entries()) {
      const blob = repo.index.lookup(id);
      if (!blob) {
        unknown.set(file, id);
        break;
      }
      if (!have?.has(i)) {
        let blobs = byPack.get(blob.packId);
        if (!blobs) byPack.set(blob.packId, (blobs = new Map()));
        let entry = blobs.get(id);
        if (!entry) blobs.set(id, (entry = { blob, targets: [] }));
        entry.targets.push({ file, offset: at });
      }
      at += blob.rawLength;
    }
  }
  const packs: PackPlan[] = [];
  for (const [packId, blobs] of byPack) {
    packs.push({ packId, blobs: [...blobs.values()].sort((a, b) => a.blob.offset - b.blob.offset) });
  }
  return { packs, unknown };
}
