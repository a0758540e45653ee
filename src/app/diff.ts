/**
 * `coffre diff SNAP1 SNAP2`: what changed from one snapshot to another. Both are walked
 * together, and a subtree with the same id on both sides is skipped without being read
 * (a Merkle tree: equal id, equal content), so a diff costs what changed, not the size
 * of the snapshots.
 *
 * Kinds: `added`, `removed`, `modified` (content, link target or type), `metadata` (only
 * mode, owner or mtime). Items under an added or removed directory are listed too.
 * @module
 */
import * as path from 'node:path';
import type { BlobId } from '../domain/ids.js';
import type { Repository } from '../repository/repository.js';
import { pairByName, type TreeNode } from '../repository/tree.js';

export type ChangeKind = 'added' | 'removed' | 'modified' | 'metadata';

export interface Change {
  readonly kind: ChangeKind;
  readonly path: string;
  /** the item's type after the change (before it, for `removed`) */
  readonly type: TreeNode['type'];
  /** file sizes before and after, where there is a file */
  readonly sizeBefore?: number;
  readonly sizeAfter?: number;
}

export interface DiffSummary {
  readonly added: number;
  readonly removed: number;
  readonly modified: number;
  readonly metadata: number;
  /** file bytes present only after / only before (added and removed files, both sides of modified ones) */
  readonly bytesAdded: number;
  readonly bytesRemoved: number;
}

/** Every change from tree `from` to tree `to`, depth first in name order. */
export async function* diffTrees(repo: Repository, from: BlobId, to: BlobId): AsyncGenerator<Change> {
  yield* diffDir(repo, from, to, '/');
}

export function summarize(changes: readonly Change[]): DiffSummary {
  const s = { added: 0, removed: 0, modified: 0, metadata: 0, bytesAdded: 0, bytesRemoved: 0 };
  for (const c of changes) {
    s[c.kind]++;
    if (c.kind !== 'metadata') {
      s.bytesAdded += c.sizeAfter ?? 0;
      s.bytesRemoved += c.sizeBefore ?? 0;
    }
  }
  return s;
}

async function* diffDir(repo: Repository, from: BlobId, to: BlobId, dir: string): AsyncGenerator<Change> {
  if (from === to) return;
  const [a, b] = await Promise.all([repo.readTree(from), repo.readTree(to)]);
  for (const [x, y] of pairByName(a.nodes, b.nodes)) {
    if (!y) yield* whole(repo, 'removed', x!, dir);
    else if (!x) yield* whole(repo, 'added', y, dir);
    else yield* diffNode(repo, x, y, dir);
  }
}

async function* diffNode(repo: Repository, x: TreeNode, y: TreeNode, dir: string): AsyncGenerator<Change> {
  const p = path.posix.join(dir, x.name);
  if (x.type !== y.type) {
    if (x.type === 'dir') yield* below(repo, 'removed', x, p);
    yield { kind: 'modified', path: p, type: y.type, ...sizes(x, y) };
    if (y.type === 'dir') yield* below(repo, 'added', y, p);
    return;
  }
  const sameMeta = x.mode === y.mode && x.mtimeNs === y.mtimeNs && x.uid === y.uid && x.gid === y.gid;
  if (x.type === 'dir') {
    if (!sameMeta) yield { kind: 'metadata', path: p, type: 'dir' };
    if (x.subtree && y.subtree) yield* diffDir(repo, x.subtree, y.subtree, p);
    return;
  }
  const sameContent = x.type === 'file' ? x.size === y.size && sameIds(x.content ?? [], y.content ?? []) : x.target === y.target;
  if (!sameContent) yield { kind: 'modified', path: p, type: y.type, ...sizes(x, y) };
  else if (!sameMeta) yield { kind: 'metadata', path: p, type: y.type };
}

/** An item present on one side only, and, for a directory, everything below it. */
async function* whole(repo: Repository, kind: 'added' | 'removed', n: TreeNode, dir: string): AsyncGenerator<Change> {
  const p = path.posix.join(dir, n.name);
  yield { kind, path: p, type: n.type, ...(n.type === 'file' ? (kind === 'added' ? { sizeAfter: n.size ?? 0 } : { sizeBefore: n.size ?? 0 }) : {}) };
  yield* below(repo, kind, n, p);
}

async function* below(repo: Repository, kind: 'added' | 'removed', n: TreeNode, p: string): AsyncGenerator<Change> {
  if (n.type !== 'dir' || !n.subtree) return;
  for (const c of (await repo.readTree(n.subtree)).nodes) yield* whole(repo, kind, c, p);
}

function sizes(x: TreeNode, y: TreeNode): { sizeBefore?: number; sizeAfter?: number } {
  return { ...(x.type === 'file' ? { sizeBefore: x.size ?? 0 } : {}), ...(y.type === 'file' ? { sizeAfter: y.size ?? 0 } : {}) };
}

function sameIds(a: readonly BlobId[], b: readonly BlobId[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
