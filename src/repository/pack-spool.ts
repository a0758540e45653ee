/**
 * A pack written to a local file as its blobs are sealed, and hashed on the way: the thread
 * that seals the blobs (a worker) writes them straight to disk, so neither the blobs nor the
 * pack wait in memory or cross between threads. When the pack is full, its tail (padding,
 * sealed header, trailer: pack.ts) is appended and the file is handed to storage as a
 * FileBody; the local backend links it into place, S3 streams it.
 *
 * Writes are synchronous: they copy into the page cache and run on a worker thread, where
 * blocking is what the thread is for. The file name carries the process id, so files left
 * by a killed process can be told from a running one's (`removeStaleSpools`).
 * @module
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, constants as fsc, openSync, readdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../domain/errors.js';
import { idFromBytes, type BlobId, type PackId } from '../domain/ids.js';
import type { FileBody } from '../storage/storage.js';
import type { BlobType } from './blob-codec.js';
import type { SealingKey } from './envelope.js';
import { packTail, type PackEntry } from './pack.js';

const PREFIX = 'coffre-pack-';
/**
 * Spool files are named by host and pid: a local repository's spool directory is its own
 * tmp/, which several hosts may share (a NAS), and only this host can tell whether one of its
 * pids still runs.
 */
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
const SPOOL_NAME = /^coffre-pack-(.+)-(\d+)-[0-9a-f]+\.tmp$/;

/** A pack ready for storage: its id (the SHA-256 of its bytes), its file, its entries. */
export interface SpooledPack {
  readonly id: PackId;
  readonly file: FileBody;
  readonly entries: PackEntry[];
}

export class PackSpool {
  private fd = -1;
  private file = '';
  private hash: Hash = createHash('sha256');
  private entries: PackEntry[] = [];
  private bytes = 0;

  constructor(private readonly dir: string) {}

  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.length;
  }

  add(type: BlobType, id: BlobId, sealed: Uint8Array, rawLength: number): void {
    if (this.fd < 0) this.open();
    this.write(sealed);
    this.entries.push({ type, id, offset: this.bytes - sealed.length, length: sealed.length, rawLength });
  }

  /** Appends the tail and closes the file; the spool is empty again afterwards. */
  finish(sealing: Uint8Array | SealingKey): SpooledPack {
    for (const part of packTail(this.entries, this.bytes, sealing)) this.write(part);
    closeSync(this.fd);
    const sha256 = this.hash.digest();
    const done: SpooledPack = { id: idFromBytes<PackId>(sha256), file: { path: this.file, size: this.bytes, sha256 }, entries: this.entries };
    this.reset();
    return done;
  }

  /** Drops the pack being filled (a failed or stopped backup). */
  discard(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      rmSync(this.file, { force: true });
    }
    this.reset();
  }

  private open(): void {
    this.file = path.join(this.dir, `${PREFIX}${HOST}-${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
    this.fd = openSync(this.file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  }

  private write(buf: Uint8Array): void {
    for (let done = 0; done < buf.length; ) done += writeSync(this.fd, buf, done, buf.length - done, this.bytes + done);
    this.hash.update(buf);
    this.bytes += buf.length;
  }

  private reset(): void {
    this.fd = -1;
    this.file = '';
    this.hash = createHash('sha256');
    this.entries = [];
    this.bytes = 0;
  }
}

/**
 * Removes spool files of this host's processes that no longer run (a backup killed mid-pack):
 * the pack they held was never stored, and its blobs are sealed again by the next backup.
 * Other hosts' files are theirs to judge.
 */
export function removeStaleSpools(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = SPOOL_NAME.exec(name);
    const pid = Number(m?.[2]);
    if (!m || m[1] !== HOST || !pid || pid === process.pid || isRunning(pid)) continue;
    try {
      unlinkSync(path.join(dir, name));
    } catch {
      // another process cleaned it first, or it is not ours to remove: leave it
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The spool directory of storages without one of their own: `$TMPDIR/coffre-spool-UID`.
 * /tmp is shared: a directory of that name that someone else made (or a symlink to one)
 * would let them swap a pack between its sealing and its upload, so anything but a directory
 * owned by this user that others cannot enter is refused.
 */
export async function tempSpoolDir(): Promise<string> {
  const dir = path.join(tmpdir(), `coffre-spool-${process.getuid?.() ?? 0}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new UsageError(`${dir}: not a private directory of this user (mode ${(st.mode & 0o777).toString(8)}); remove it, or set TMPDIR to a directory of your own`);
  }
  return dir;
}
