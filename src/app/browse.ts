/**
 * Looking into snapshots: list them, list the files of one.
 * @module
 */
import * as path from 'node:path';
import { UsageError } from '../domain/errors.js';
import type { BlobId } from '../domain/ids.js';
import type { Repository, SnapshotEntry } from '../repository/repository.js';
import { isSuspect } from '../repository/snapshot.js';
import type { TreeNode } from '../repository/tree.js';

export interface SnapshotListing {
  readonly id: string;
  readonly shortId: string;
  readonly time: string;
  readonly host: string;
  readonly username: string;
  readonly paths: readonly string[];
  readonly tags: readonly string[];
  readonly parent: string | null;
  readonly summary: SnapshotEntry['snapshot']['summary'];
  /** the mass-change check flagged it (src/anomaly) */
  readonly suspect: boolean;
  /** why, when it is suspect */
  readonly anomalyReasons?: readonly string[];
}

export function toListing(e: SnapshotEntry): SnapshotListing {
  const s = e.snapshot;
  return { id: e.id, shortId: e.id.slice(0, 8), time: s.time, host: s.host, username: s.username, paths: s.paths, tags: s.tags, parent: s.parent, summary: s.summary, suspect: isSuspect(s), ...(isSuspect(s) ? { anomalyReasons: s.anomaly!.reasons } : {}) };
}

export interface LsEntry {
  readonly path: string;
  readonly type: TreeNode['type'];
  readonly mode: number;
  readonly size: number;
  readonly mtime: string;
  readonly target?: string;
}

/** Every item of a snapshot under `prefix` (the whole snapshot by default), depth first. */
export async function* listSnapshotFiles(repo: Repository, root: BlobId, prefix = '/'): AsyncGenerator<LsEntry> {
  const want = path.posix.resolve('/', prefix);
  let found = want === '/';
  async function* walk(treeId: BlobId, dir: string): AsyncGenerator<LsEntry> {
    for (const n of (await repo.readTree(treeId)).nodes) {
      const p = path.posix.join(dir, n.name);
      const inside = p === want || p.startsWith(want === '/' ? '/' : `${want}/`);
      if (inside) {
        found = true;
        yield { path: p, type: n.type, mode: n.mode, size: n.size ?? 0, mtime: nsToIso(n.mtimeNs), ...(n.target !== undefined ? { target: n.target } : {}) };
      }
      if (n.type === 'dir' && n.subtree && (inside || want.startsWith(`${p}/`))) yield* walk(n.subtree, p);
    }
  }
  yield* walk(root, '/');
  if (!found) throw new UsageError(`${want} is not in the snapshot`);
}

export function nsToIso(ns: string): string {
  const n = BigInt(ns);
  const ms = Number(n / 1_000_000n);
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}
