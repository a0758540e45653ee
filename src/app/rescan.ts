/**
 * The agent's full rescan: what changed on disk since the last snapshot of these sources,
 * found without a watcher. It walks the sources (with the backup's own filter) alongside the
 * snapshot's trees, mostly read from the catalog, and reports every path whose type, size,
 * mtime, mode or link target differs, that is new, or that is gone. Only metadata is read;
 * no file is opened. This is the safety net for everything a watcher can miss.
 * @module
 */
import type { BigIntStats, Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { findParent } from '../archiver/parent.js';
import type { BlobId } from '../domain/ids.js';
import type { Repository } from '../repository/repository.js';
import type { TreeNode } from '../repository/tree.js';

export interface RescanOptions {
  readonly host: string;
  /** the backup's source paths (absolute) */
  readonly paths: readonly string[];
  /** whether the backup takes this path (its exclude/include filter) */
  readonly takes: (path: string, isDirectory: boolean) => boolean;
  /** collect at most this many changed paths (the caller then marks whole sources) */
  readonly limit: number;
  readonly shouldStop?: () => boolean;
}

export interface RescanResult {
  /** the snapshot compared with; undefined when there is none yet (everything is new) */
  readonly baseline: string | undefined;
  readonly changed: readonly string[];
  /** the limit was reached, or the scan stopped: `changed` is not the whole story */
  readonly truncated: boolean;
  readonly itemsScanned: number;
}

export async function rescan(repo: Repository, opts: RescanOptions): Promise<RescanResult> {
  const parent = await findParent(repo, opts.host, opts.paths);
  if (!parent) return { baseline: undefined, changed: [...opts.paths], truncated: false, itemsScanned: 0 };
  const scan = new Scan(repo, opts);
  for (const p of opts.paths) {
    if (scan.full()) break;
    await scan.item(p, await scan.nodeAt(parent.snapshot.tree, p));
  }
  return { baseline: parent.id, changed: scan.changed, truncated: scan.full(), itemsScanned: scan.items };
}

class Scan {
  readonly changed: string[] = [];
  items = 0;

  constructor(
    private readonly repo: Repository,
    private readonly opts: RescanOptions,
  ) {}

  full(): boolean {
    return this.changed.length >= this.opts.limit || (this.opts.shouldStop?.() ?? false);
  }

  /** The node of an absolute path in a snapshot's root tree. */
  async nodeAt(root: BlobId, p: string): Promise<TreeNode | undefined> {
    let tree: BlobId | undefined = root;
    let node: TreeNode | undefined;
    for (const name of p.split('/').filter(Boolean)) {
      if (!tree) return undefined;
      node = (await this.repo.readTree(tree)).nodes.find((n) => n.name === name);
      if (!node) return undefined;
      tree = node.subtree;
    }
    return node;
  }

  async item(full: string, node: TreeNode | undefined): Promise<void> {
    this.items++;
    let st: BigIntStats;
    try {
      st = await fs.lstat(full, { bigint: true });
    } catch {
      if (node) this.changed.push(full); // gone
      return;
    }
    if (!node || node.type !== typeOf(st) || node.mode !== Number(st.mode & 0o7777n)) return void this.changed.push(full);
    if (node.type === 'dir') return node.subtree ? this.dir(full, node.subtree) : undefined;
    if (node.mtimeNs !== st.mtimeNs.toString()) return void this.changed.push(full);
    if (node.type === 'file' && node.size !== Number(st.size)) return void this.changed.push(full);
    if (node.type === 'symlink' && node.target !== (await fs.readlink(full).catch(() => undefined))) this.changed.push(full);
  }

  private async dir(dir: string, treeId: BlobId): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable: the backup reports it; nothing to compare
    }
    const nodes = new Map((await this.repo.readTree(treeId)).nodes.map((n) => [n.name, n]));
    const seen = new Set<string>();
    for (const e of entries) {
      if (this.full()) return;
      const full = path.join(dir, e.name);
      // Sockets, FIFOs and devices: the backup skips them too.
      if (!(e.isFile() || e.isDirectory() || e.isSymbolicLink()) || !this.opts.takes(full, e.isDirectory())) continue;
      seen.add(e.name);
      await this.item(full, nodes.get(e.name));
    }
    for (const name of nodes.keys()) if (!seen.has(name) && !this.full()) this.changed.push(path.join(dir, name));
  }
}

function typeOf(st: BigIntStats): TreeNode['type'] | 'other' {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return st.isFile() ? 'file' : 'other';
}
