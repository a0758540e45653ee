/**
 * Writing one restored file atomically: blobs land at their offsets in a hidden part
 * file next to the final name (in any order, as packs arrive); once every blob is there
 * the metadata is applied and the part file is renamed into place. A restore that is
 * killed leaves only part files, which the next restore replaces. Also the metadata of
 * directories and symlinks.
 * @module
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TreeNode } from '../repository/tree.js';

const isRoot = process.getuid?.() === 0;

/** A part-file name of bounded length, whatever the length of the final name. */
export function partPath(final: string): string {
  const h = createHash('sha256').update(path.basename(final)).digest('hex').slice(0, 16);
  return path.join(path.dirname(final), `.coffre-${h}.part`);
}

export class FileWriter {
  private created: Promise<void> | undefined;
  private remaining: number;
  failed: string | undefined;

  constructor(
    readonly final: string,
    readonly node: TreeNode,
  ) {
    this.remaining = node.content?.length ?? 0;
  }

  get part(): string {
    return partPath(this.final);
  }

  get complete(): boolean {
    return this.remaining === 0 && this.failed === undefined;
  }

  /** Writes one blob at its offset; resolves true when this was the file's last blob. */
  async write(offset: number, data: Uint8Array): Promise<boolean> {
    await this.create();
    const fh = await fs.open(this.part, 'r+');
    try {
      let done = 0;
      while (done < data.length) done += (await fh.write(data, done, data.length - done, offset + done)).bytesWritten;
    } finally {
      await fh.close();
    }
    return --this.remaining === 0;
  }

  /** Applies mode, owner and times, then renames the part file into place. */
  async finish(): Promise<void> {
    await this.create();
    await applyMetadata(this.part, this.node);
    await fs.rename(this.part, this.final);
  }

  async discard(): Promise<void> {
    await fs.rm(this.part, { force: true });
  }

  private create(): Promise<void> {
    this.created ??= (async () => {
      const fh = await fs.open(this.part, 'w', 0o600);
      try {
        await fh.truncate(this.node.size ?? 0);
      } finally {
        await fh.close();
      }
    })();
    return this.created;
  }
}

/** Seconds as a double: the most precise form fs.utimes accepts (about 0.25 µs today). */
function mtimeSeconds(node: TreeNode): number {
  const ns = BigInt(node.mtimeNs);
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

export async function applyMetadata(p: string, node: TreeNode): Promise<void> {
  if (isRoot) await fs.chown(p, node.uid, node.gid);
  await fs.chmod(p, node.mode);
  const t = mtimeSeconds(node);
  await fs.utimes(p, t, t);
}

export async function createSymlink(p: string, node: TreeNode): Promise<void> {
  await fs.symlink(node.target ?? '', p);
  if (isRoot) await fs.lchown(p, node.uid, node.gid);
  const t = mtimeSeconds(node);
  await fs.lutimes(p, t, t);
}

/** Restored mtimes can be off by the double rounding of fs.utimes; closer than this is "the same". */
export const MTIME_TOLERANCE_NS = 2000n;

/** undefined when nothing is at `p`; else whether it holds this file as restored (same size and mtime). */
export async function alreadyRestored(p: string, node: TreeNode): Promise<boolean | undefined> {
  const st = await fs.lstat(p, { bigint: true }).catch(() => undefined);
  if (!st) return undefined;
  const dt = st.mtimeNs - BigInt(node.mtimeNs);
  return st.isFile() && st.size === BigInt(node.size ?? 0) && dt < MTIME_TOLERANCE_NS && dt > -MTIME_TOLERANCE_NS;
}
