/**
 * `coffre find PATTERN`: which snapshots hold a path. A pattern without "/" is a glob on
 * the name (`*.csv`, `patients-00??.csv`); with "/", a glob on the absolute path
 * (`/srv/identites/**\/2026-*`; a relative one is matched anywhere: `service-a/*.csv`).
 *
 * Trees are immutable and shared between snapshots: the matches under one tree at one
 * place are computed once and reused by every snapshot that has it, and with a warm
 * catalog no tree is read from storage.
 * @module
 */
import picomatch from 'picomatch';
import { UsageError } from '../domain/errors.js';
import type { BlobId } from '../domain/ids.js';
import type { Repository, SnapshotEntry } from '../repository/repository.js';
import type { TreeNode } from '../repository/tree.js';
import { nsToIso } from './browse.js';

export interface FindOptions {
  /** Only these snapshots ("latest", ids or prefixes); all by default. */
  readonly snapshots?: readonly string[];
  readonly host?: string;
  readonly ignoreCase?: boolean;
}

export interface FoundItem {
  readonly path: string;
  readonly type: TreeNode['type'];
  readonly size: number;
  readonly mtime: string;
}

export interface FindResult {
  readonly snapshotId: string;
  readonly shortId: string;
  readonly time: string;
  readonly host: string;
  readonly matches: readonly FoundItem[];
}

/** One result per snapshot holding a match, oldest first. */
export async function findInSnapshots(repo: Repository, pattern: string, opts: FindOptions = {}): Promise<FindResult[]> {
  if (!pattern) throw new UsageError('find needs a pattern');
  const byName = !pattern.includes('/');
  const glob = byName || pattern.startsWith('/') ? pattern : `**/${pattern}`;
  const isMatch = picomatch(glob, { dot: true, nocase: opts.ignoreCase === true });
  const snapshots = await selectSnapshots(repo, opts);
  const memo = new Map<string, Promise<FoundItem[]>>();

  const walk = (treeId: BlobId, dir: string): Promise<FoundItem[]> => {
    const key = `${treeId}\0${dir}`;
    let found = memo.get(key);
    if (!found) {
      found = (async () => {
        const out: FoundItem[] = [];
        const prefix = dir === '/' ? '/' : `${dir}/`;
        for (const n of (await repo.readTree(treeId)).nodes) {
          // Tree names are validated (no "/", ".", ".."): a plain concatenation is the path.
          const p = byName ? undefined : prefix + n.name;
          if (isMatch(p ?? n.name)) out.push({ path: p ?? prefix + n.name, type: n.type, size: n.size ?? 0, mtime: nsToIso(n.mtimeNs) });
          if (n.type === 'dir' && n.subtree) for (const m of await walk(n.subtree, p ?? prefix + n.name)) out.push(m);
        }
        return out;
      })();
      memo.set(key, found);
    }
    return found;
  };

  const results: FindResult[] = [];
  for (const { id, snapshot } of snapshots) {
    const matches = await walk(snapshot.tree, '/');
    if (matches.length) results.push({ snapshotId: id, shortId: id.slice(0, 8), time: snapshot.time, host: snapshot.host, matches });
  }
  return results;
}

async function selectSnapshots(repo: Repository, opts: FindOptions): Promise<SnapshotEntry[]> {
  const all = opts.snapshots?.length ? await Promise.all(opts.snapshots.map((r) => repo.findSnapshot(r))) : await repo.snapshots();
  const unique = [...new Map(all.map((s) => [s.id, s])).values()];
  return unique.filter((s) => opts.host === undefined || s.snapshot.host === opts.host);
}
