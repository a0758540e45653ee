/**
 * Writing one restored file atomically: blobs land at their offsets in a hidden part
 * file next to the final name (in any order, as packs arrive); once every blob is there
 * the metadata is applied and the part file is renamed into place. A restore that is
 * killed leaves only part files; the next restore keeps the pieces of them that are
 * intact (checked against their ids) and fetches the rest. Also the metadata of
 * directories and symlinks.
 *
 * The bytes themselves are written by the worker threads that open the blobs
 * (workers/restore-task.ts); this module decides names and metadata and finishes what the
 * workers do not.
 * @module
 */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TreeNode } from '../repository/tree.js';
import { applyThrough, PART_CREATE_FLAGS, PART_CREATE_MODE, type RestoredMetadata, type WholeFile } from '../workers/restore-task.js';

const isRoot = process.getuid?.() === 0;

/** A part-file name of bounded length, whatever the length of the final name. */
export function partPath(final: string): string {
  const h = createHash('sha256').update(path.basename(final)).digest('hex').slice(0, 16);
  return path.join(path.dirname(final), `.coffre-${h}.part`);
}

/**
 * One file being restored. Most files are restored whole by the worker that opens the range
 * holding all their blobs (`wholeFile`, workers/restore-task.ts). A file whose blobs span
 * several ranges, or a part file being resumed, is created here (`prepare`), written by
 * workers range by range, and finished here once every piece has arrived.
 */
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

  /** a part file is already there: kept by `resume`, or created by `prepare` */
  get started(): boolean {
    return this.created !== undefined;
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

  /**
   * Creates (or empties) the part file, mode 0600, once, before the first piece is written
   * into it: at its final size from the start, so that a part file left by a killed run can
   * be resumed.
   */
  prepare(): Promise<void> {
    this.created ??= (async () => {
      const fh = await fs.open(this.part, PART_CREATE_FLAGS, PART_CREATE_MODE);
      try {
        if ((this.node.content?.length ?? 0) > 1) await fh.truncate(this.node.size ?? 0);
      } finally {
        await fh.close();
      }
    })();
    return this.created;
  }

  /** A piece was written into the part file (`complete` says when it holds them all). */
  delivered(): void {
    this.remaining--;
  }

  /** A worker restored the whole file and renamed it into place. */
  restoredWhole(): void {
    this.remaining = 0;
  }

  /** What a worker needs to restore this file whole: its names, metadata, and where each piece goes. */
  wholeFile(pieces: { blob: number; offset: number }[]): WholeFile {
    return { part: this.part, final: this.final, size: this.node.size ?? 0, pieces, ...metadataOf(this.node, this.inFreshDir) };
  }

  /** Applies mode, owner and times, then renames the part file into place. */
  async finish(): Promise<void> {
    await this.prepare();
    await applyMetadata(this.part, this.node, this.inFreshDir);
    await fs.rename(this.part, this.final);
  }

  async discard(): Promise<void> {
    await fs.rm(this.part, { force: true });
  }
}

/** Seconds as a double: the most precise form fs.utimes accepts (about 0.25 µs today). */
function mtimeSeconds(node: TreeNode): number {
  const ns = BigInt(node.mtimeNs);
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/**
 * What `node` is given once restored. Only root changes owners, and not to the uid and gid a
 * file `ownedByUs` (see applyMetadata) has already.
 */
function metadataOf(node: TreeNode, ownedByUs: boolean): RestoredMetadata {
  const chown = isRoot && !(ownedByUs && node.uid === process.getuid?.() && node.gid === process.getgid?.());
  return { mode: node.mode, mtime: mtimeSeconds(node), ...(chown ? { owner: { uid: node.uid, gid: node.gid } } : {}) };
}

/**
 * Owner (as root), mode and times of the file or directory at `p`, applied through a
 * descriptor, as the workers do: by name, a chown or chmod follows a symlink that someone
 * who can write to the directory swapped in meanwhile (a restore run as root would then hand
 * that link's target, /etc/shadow say, to the file's owner). The name is opened without
 * following a link, without blocking (a FIFO swapped in), and must still be what the restore
 * made. `ownedByUs`: `p` was just created by this process in a directory this restore
 * created (mode 0700 so far: no setgid bit to inherit), so it belongs to our uid and gid,
 * and a chown to those is skipped.
 */
export async function applyMetadata(p: string, node: TreeNode, ownedByUs = false): Promise<void> {
  const meta = metadataOf(node, ownedByUs);
  const fh = await openForMetadata(p);
  if (!fh) return applyMetadataByName(p, meta);
  try {
    const st = await fh.stat();
    if (node.type === 'dir' ? !st.isDirectory() : !st.isFile()) throw new Error(`${p} was replaced during the restore`);
    applyThrough(fh.fd, meta);
  } finally {
    await fh.close();
  }
}

const METADATA_OPEN_FLAGS = fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK;

/** undefined only when we may not read `p` (not root: a directory without read permission for us). */
async function openForMetadata(p: string): Promise<fs.FileHandle | undefined> {
  try {
    return await fs.open(p, METADATA_OPEN_FLAGS);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES' && !isRoot) return undefined;
    throw e;
  }
}

/**
 * The fallback for what we may not open: not root, so no chown, and the name is checked not
 * to be a symlink just before (a chmod by a user only reaches that user's own files).
 */
async function applyMetadataByName(p: string, meta: RestoredMetadata): Promise<void> {
  if ((await fs.lstat(p)).isSymbolicLink()) throw new Error(`${p} was replaced by a symlink during the restore`);
  await fs.chmod(p, meta.mode);
  await fs.utimes(p, meta.mtime, meta.mtime);
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
