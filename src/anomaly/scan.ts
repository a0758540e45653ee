/**
 * Walks a snapshot's tree against its parent's and measures what changed (measure.ts),
 * then judges it (judge.ts). Subtrees with the same id on both sides are skipped without
 * being read (a Merkle tree), so this costs what changed, not the size of the tree; how
 * well each changed file compressed comes from the blob index (sealed and plaintext
 * lengths), so no file content is read either.
 * @module
 */
import * as path from 'node:path';
import type { BlobId } from '../domain/ids.js';
import type { Repository } from '../repository/repository.js';
import type { SnapshotSummary } from '../repository/snapshot.js';
import { pairByName, type Tree, type TreeNode } from '../repository/tree.js';
import { SEAL_OVERHEAD } from '../crypto/aead.js';
import { judgeChanges, type AnomalyThresholds, type AnomalyVerdict } from './judge.js';
import { measureChanges, type FileChange, type FileSide } from './measure.js';

/** Files smaller than this say little about their entropy (headers dominate): not judged. */
const MIN_JUDGED_BYTES = 512;
/** At most this many chunks of a file are looked up: the beginning tells. */
const CHUNKS_LOOKED_UP = 4;

export interface AssessInput {
  readonly parentTree: BlobId;
  readonly parentSummary: SnapshotSummary | null;
  readonly tree: BlobId;
}

/** The verdict on a new snapshot, or undefined when the parent's file count is unknown (a very old snapshot). */
export async function assessChanges(repo: Repository, input: AssessInput, thresholds?: AnomalyThresholds): Promise<AnomalyVerdict | undefined> {
  const filesBefore = input.parentSummary?.totalFiles;
  if (filesBefore === undefined) return undefined;
  const changes: FileChange[] = [];
  const extensions = new Map<string, Set<string>>();
  const side = (p: string, n: TreeNode): FileSide => ({ path: p, contentKey: (n.content ?? []).join(','), ratio: compressionRatio(repo, n) });
  const collect = async (kind: 'added' | 'removed', n: TreeNode, p: string): Promise<void> => {
    if (n.type === 'file') changes.push(kind === 'added' ? { kind, after: side(p, n) } : { kind, before: side(p, n) });
    else if (n.type === 'dir' && n.subtree) for (const c of (await repo.readTree(n.subtree)).nodes) await collect(kind, c, path.posix.join(p, c.name));
  };
  const walk = async (from: BlobId, to: BlobId, dir: string): Promise<void> => {
    if (from === to) return;
    const [a, b] = await Promise.all([repo.readTree(from), repo.readTree(to)]);
    extensions.set(dir, extensionsOf(a));
    for (const [x, y] of pairByName(a.nodes, b.nodes)) {
      if (!y) await collect('removed', x!, path.posix.join(dir, x!.name));
      else if (!x) await collect('added', y, path.posix.join(dir, y.name));
      else {
        const p = path.posix.join(dir, x.name);
        if (x.type === 'dir' && y.type === 'dir' && x.subtree && y.subtree) await walk(x.subtree, y.subtree, p);
        else if (x.type === 'file' && y.type === 'file') {
          if (!sameContent(x, y)) changes.push({ kind: 'modified', before: side(p, x), after: side(p, y) });
        } else if (x.type !== y.type) {
          await collect('removed', x, p);
          await collect('added', y, p);
        }
      }
    }
  };
  await walk(input.parentTree, input.tree, '/');
  const none: ReadonlySet<string> = new Set();
  const measures = measureChanges(filesBefore, changes, (dir) => extensions.get(dir) ?? none);
  return judgeChanges(measures, thresholds);
}

function extensionsOf(t: Tree): Set<string> {
  const out = new Set<string>();
  for (const n of t.nodes) if (n.type === 'file') out.add(path.posix.extname(n.name).toLowerCase());
  return out;
}

/** Stored size over plaintext size of the file's first chunks, from the blob index. */
function compressionRatio(repo: Repository, n: TreeNode): number | undefined {
  if ((n.size ?? 0) < MIN_JUDGED_BYTES || !n.content?.length) return undefined;
  let stored = 0;
  let raw = 0;
  for (const id of n.content.slice(0, CHUNKS_LOOKED_UP)) {
    const b = repo.index.lookup(id);
    if (!b) return undefined;
    // sealed = nonce ‖ ciphertext(compression byte ‖ payload) ‖ tag
    stored += b.length - SEAL_OVERHEAD - 1;
    raw += b.rawLength;
  }
  return raw > 0 ? stored / raw : undefined;
}

function sameContent(x: TreeNode, y: TreeNode): boolean {
  const a = x.content ?? [];
  const b = y.content ?? [];
  return x.size === y.size && a.length === b.length && a.every((id, k) => id === b[k]);
}
