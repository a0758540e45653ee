/**
 * Writing one restored file atomically: blobs land at their offsets in a hidden part
 * file next to the final name (in any order, as packs arrive); once every blob is there
 * the metadata is applied and the part file is renamed into place. A restore that is
 * killed leaves only part files; the next restore keeps the pieces of them that are
 * intact (checked against their ids) and fetches the rest. Also the metadata of
 * directories and symlinks.
 * @module
 */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TreeNode } from '../repository/tree.js';

const isRoot = process.getuid?.() === 0;

/** A part-file name of bounded length, whatever the length of the final name. */
export function partPath(final: string): string {
  const h = createHash('sha256').update(path.basename(final)).digest('hex').slice(0, 16);
  return path.join(path.dirname(final), `.coffre-${h}.part`);
}

/**
 * A few part files kept open between blobs. Packs deliver a file's blobs one by one, often
 * many to the same file: reopening it for each blob costs two system calls and, for large
 * restores, most of the time spent outside decryption. Handles are shared by concurrent
 * writers (positional writes need no ordering) and closed least recently used first, only
 * when no write is using them.
 */
export class OpenFiles {
  private readonly open = new Map<string, { fh: Promise<fs.FileHandle>; users: number }>();

  constructor(readonly max = 32) {}

  async use<T>(p: string, fn: (fh: fs.FileHandle) => Promise<T>): Promise<T> {
    let e = this.open.get(p);
    if (e) this.open.delete(p); // re-insert: most recently used last
    else e = { fh: fs.open(p, fsc.O_RDWR | fsc.O_NOFOLLOW), users: 0 };
    this.open.set(p, e);
    e.users++;
    try {
      return await fn(await e.fh);
    } finally {
      e.users--;
      await this.evict();
    }
  }

  /** Creates (or empties) `p`, mode 0600, and keeps it open for the writes to come. */
  async create(p: string, size: number, preallocate: boolean): Promise<void> {
    await this.close(p);
    // O_NOFOLLOW: a symlink planted at the predictable part name (a directory others can
    // write, a restore run as root) must not redirect the write to another file.
    const fh = await fs.open(p, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o600);
    try {
      // The final size from the start: a part file left by a killed run can then be resumed.
      if (preallocate) await fh.truncate(size);
    } catch (e) {
      await fh.close();
      throw e;
    }
    this.open.set(p, { fh: Promise.resolve(fh), users: 0 });
    await this.evict();
  }

  /** Closes the handle of `p` (before its metadata is applied and it is renamed). */
  async close(p: string): Promise<void> {
    const e = this.open.get(p);
    if (!e) return;
    this.open.delete(p);
    await (await e.fh.catch(() => undefined))?.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((p) => this.close(p)));
  }

  private async evict(): Promise<void> {
    if (this.open.size <= this.max) return;
    for (const [p, e] of this.open) {
      if (this.open.size <= this.max) break;
      if (e.users === 0) await this.close(p);
    }
  }
}

export class FileWriter {
  private created: Promise<void> | undefined;
  private remaining: number;
  failed: string | undefined;
  /** the damaged or missing object behind `failed`, when there is one */
  failedObject: string | undefined;
  /** bytes found already in place in a part file left by an interrupted restore */
  resumedBytes = 0;
  /** keep the part file despite a failure (the storage failed, not the data: a later run resumes it) */
  keepPart = false;

  constructor(
    readonly final: string,
    readonly node: TreeNode,
    private readonly files: OpenFiles = new OpenFiles(1),
    /** the file's directory was created by this restore (mode 0700 so far): no setgid bit to inherit */
    private readonly inFreshDir = false,
  ) {
    this.remaining = node.content?.length ?? 0;
  }

  get part(): string {
    return partPath(this.final);
  }

  get complete(): boolean {
    return this.remaining === 0 && this.failed === undefined;
  }

  fail(reason: string, object?: string): void {
    if (this.failed !== undefined) return;
    this.failed = reason;
    this.failedObject = object;
  }

  /**
   * Resuming: if a part file of the right size is already there (a restore was killed),
   * finds which content pieces it already holds intact — each piece read back and named
   * with the repository's keyed hash must give its id — and keeps the file. Returns the
   * indexes of those pieces; they need not be fetched. Otherwise the part file is started
   * afresh.
   */
  async resume(pieces: readonly { id: string; rawLength: number }[], idOf: (b: Uint8Array) => string): Promise<Set<number>> {
    const have = new Set<number>();
    const st = await fs.lstat(this.part).catch(() => undefined);
    if (!st?.isFile() || st.size !== (this.node.size ?? 0) || pieces.length === 0) return have;
    const fh = await fs.open(this.part, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const buf = Buffer.allocUnsafe(Math.max(...pieces.map((p) => p.rawLength)));
      let at = 0;
      for (const [i, p] of pieces.entries()) {
        const view = buf.subarray(0, p.rawLength);
        const { bytesRead } = await fh.read(view, 0, p.rawLength, at);
        if (bytesRead === p.rawLength && idOf(view) === p.id) have.add(i);
        at += p.rawLength;
      }
    } finally {
      await fh.close();
    }
    if (have.size === 0) return have;
    this.created = Promise.resolve(); // keep the part file as it is
    this.remaining -= have.size;
    for (const i of have) this.resumedBytes += pieces[i]!.rawLength;
    return have;
  }

  /** Writes one blob at its offset; resolves true when this was the file's last blob. */
  async write(offset: number, data: Uint8Array): Promise<boolean> {
    await this.create();
    await this.files.use(this.part, async (fh) => {
      let done = 0;
      while (done < data.length) done += (await fh.write(data, done, data.length - done, offset + done)).bytesWritten;
    });
    return --this.remaining === 0;
  }

  /** Applies mode, owner and times, then renames the part file into place. */
  async finish(): Promise<void> {
    await this.create();
    await this.files.close(this.part);
    await applyMetadata(this.part, this.node, this.inFreshDir);
    await fs.rename(this.part, this.final);
  }

  async discard(): Promise<void> {
    await this.files.close(this.part);
    await fs.rm(this.part, { force: true });
  }

  private create(): Promise<void> {
    // A one-piece file is written whole by its only write: nothing to preallocate.
    this.created ??= this.files.create(this.part, this.node.size ?? 0, (this.node.content?.length ?? 0) > 1);
    return this.created;
  }
}

/** Seconds as a double: the most precise form fs.utimes accepts (about 0.25 µs today). */
function mtimeSeconds(node: TreeNode): number {
  const ns = BigInt(node.mtimeNs);
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/**
 * Owner (as root), mode and times. `ownedByUs`: `p` was just created by this process in a
 * directory this restore created (mode 0700 so far: no setgid bit to inherit), so it belongs
 * to our uid and gid, and a chown to those is skipped.
 */
export async function applyMetadata(p: string, node: TreeNode, ownedByUs = false): Promise<void> {
  if (isRoot && !(ownedByUs && node.uid === process.getuid?.() && node.gid === process.getgid?.())) await fs.chown(p, node.uid, node.gid);
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
