/**
 * The worker side of a restore: one fetched range of a pack is opened blob by blob and each
 * blob is written straight to the files that need it, on the worker thread. Only a small
 * report goes back to the main thread: the plaintext never crosses threads, so the main
 * thread neither copies nor collects it, and the per-file system calls of small files run
 * on the workers, both cores busy.
 *
 * Every blob is authenticated and checked against its id (decodeBlobInto) before any of its
 * bytes is written. The range is this task's own: each blob is decrypted where it lies in
 * it, and a compressed one is decompressed into a scratch buffer reused from blob to blob. A
 * write completes (synchronously) before the next blob is opened, so one blob's bytes can
 * never reach another's file.
 *
 * Two kinds of targets:
 * - a write into a part file the main thread created (`writes`): files whose blobs span
 *   several ranges, and part files being resumed. The main thread finishes them.
 * - a whole file (`files`): every blob it needs is in this range, so this task creates its
 *   part file, writes it, applies owner, mode and times, and renames it into place. A file
 *   any of whose blobs is damaged is removed again: no partial file is left behind.
 * @module
 */
import * as fs from 'node:fs';
import { constants as fsc } from 'node:fs';
import { IntegrityError } from '../domain/errors.js';
import { decodeBlobInto, DecodeScratch, type BlobKeys } from '../repository/blob-codec.js';
import type { RangeBlob } from './codec-tasks.js';

/**
 * A blob's bytes to write at `offset` of an existing part file (created by the main thread).
 * The worker opens it by name for the duration of the task rather than borrowing the main
 * thread's descriptor: a descriptor closed and reused on one side while the other still
 * writes to it would send bytes to the wrong file.
 */
export interface PartWrite {
  readonly blob: number;
  readonly part: string;
  readonly offset: number;
}

/** Where a range's blobs go: writes into part files the main thread created, and whole files. */
export interface RestoreTargets {
  readonly writes: readonly PartWrite[];
  readonly files: readonly WholeFile[];
}

/** What a restored file or directory is given once its content is in place. */
export interface RestoredMetadata {
  readonly mode: number;
  /** seconds, as fs.futimes takes them */
  readonly mtime: number;
  /** set when the owner must be changed (a restore run as root) */
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/**
 * Applies `m` through an open descriptor, never by name: a name can be swapped for a symlink
 * meanwhile by whoever can write the directory, and a chown or chmod by name would follow it.
 * The one way restored files (here and on the main thread, restorer/file-writer.ts) and
 * directories get their metadata.
 */
export function applyThrough(fd: number, m: RestoredMetadata): void {
  // owner first: a chown clears the setuid and setgid bits the mode may set
  if (m.owner) fs.fchownSync(fd, m.owner.uid, m.owner.gid);
  fs.fchmodSync(fd, m.mode);
  fs.futimesSync(fd, m.mtime, m.mtime);
}

/** A file this task restores from start to finish. */
export interface WholeFile extends RestoredMetadata {
  readonly part: string;
  readonly final: string;
  readonly size: number;
  /** where each of its pieces goes: index into the range's blobs, offset in the file */
  readonly pieces: readonly { readonly blob: number; readonly offset: number }[];
}

export interface RestoreRangeRequest {
  readonly op: 'restore-range';
  /** the bytes of a pack from `base` on, holding every blob listed */
  readonly range: Uint8Array;
  readonly base: number;
  readonly blobs: readonly RangeBlob[];
  readonly where: string;
  /** the key of the pack when it is not the data key (a write-only session's) */
  readonly key?: Uint8Array;
  readonly writes: readonly PartWrite[];
  readonly files: readonly WholeFile[];
}

/** What a restore-range task gives back: its report, and the range's memory for the next read. */
export interface RestoreRangeResult {
  readonly report: RestoreRangeReport;
  /** the range as it came (its bytes now decrypted in place), when its memory came back */
  readonly range?: Uint8Array;
}

export interface TaskError {
  readonly error: string;
  /** the damaged object, for damage (not for a local write failure) */
  readonly objectKey?: string;
}

export interface RestoreRangeReport {
  /** per blob: undefined when it was opened and checked, else why not */
  readonly blobs: (TaskError | undefined)[];
  /** per part write (of a blob that opened): undefined when written, else the write error */
  readonly writes: (TaskError | undefined)[];
  /** per whole file: undefined when restored and renamed into place, else why not */
  readonly files: (TaskError | undefined)[];
}

const scratch = new DecodeScratch();

/**
 * How a part file is created, here and on the main thread (restorer/file-writer.ts): emptied,
 * mode 0600 until the file's own mode is applied, and O_NOFOLLOW, because a symlink planted at
 * the predictable part name (a directory others can write, a restore run as root) must not
 * redirect the write to another file.
 */
export const PART_CREATE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW;
export const PART_CREATE_MODE = 0o600;

/** Runs on a worker thread (or inline): every blob opened, written, files finished. */
export function restoreRange(req: RestoreRangeRequest, keys: BlobKeys): RestoreRangeReport {
  const n = req.blobs.length;
  const blobs: (TaskError | undefined)[] = new Array(n).fill(undefined);
  const writes: (TaskError | undefined)[] = new Array(req.writes.length).fill(undefined);
  const files: (TaskError | undefined)[] = new Array(req.files.length).fill(undefined);

  // per blob: the part writes and the whole-file pieces it feeds
  const partWrites: number[][] = Array.from({ length: n }, () => []);
  const pieces: { file: number; offset: number }[][] = Array.from({ length: n }, () => []);
  req.writes.forEach((w, i) => partWrites[w.blob]!.push(i));
  req.files.forEach((f, i) => f.pieces.forEach((p) => pieces[p.blob]!.push({ file: i, offset: p.offset })));
  const fds: (number | undefined)[] = new Array(req.files.length).fill(undefined);
  const partFds = new Map<string, number>();

  // A whole file is finished (or removed) as soon as its last piece is settled, so that a range
  // of many small files holds a few descriptors, not one per file until the range is done.
  const left = req.files.map((f) => f.pieces.length);
  const settled: boolean[] = new Array(req.files.length).fill(false);
  const settle = (i: number): void => {
    if (settled[i]) return;
    settled[i] = true;
    const f = req.files[i]!;
    if (files[i] === undefined) {
      try {
        const fd = (fds[i] ??= createPart(f));
        applyThrough(fd, f);
        fds[i] = undefined;
        fs.closeSync(fd);
        fs.renameSync(f.part, f.final);
        return;
      } catch (e) {
        files[i] = taskError(e);
      }
    }
    const fd = fds[i];
    fds[i] = undefined;
    discard(f.part, fd);
  };
  const pieceSettled = (i: number): void => {
    if (--left[i]! === 0) settle(i);
  };

  try {
    for (let b = 0; b < n; b++) {
      const blob = req.blobs[b]!;
      const start = blob.offset - req.base;
      const sealed = req.range.subarray(start, start + blob.length);
      let raw: Buffer;
      try {
        if (start < 0 || sealed.length !== blob.length) {
          throw new IntegrityError(req.where, `${req.where}: truncated: blob ${blob.id.slice(0, 8)} lies past its end`);
        }
        raw = decodeBlobInto(sealed, blob.type, blob.id, blob.rawLength, keys, req.where, scratch, { inPlace: true });
      } catch (e) {
        const err = taskError(e);
        blobs[b] = err;
        for (const p of pieces[b]!) {
          files[p.file] ??= err;
          pieceSettled(p.file);
        }
        continue;
      }
      for (const i of partWrites[b]!) {
        const w = req.writes[i]!;
        try {
          let fd = partFds.get(w.part);
          if (fd === undefined) partFds.set(w.part, (fd = fs.openSync(w.part, fsc.O_WRONLY | fsc.O_NOFOLLOW)));
          writeAll(fd, raw, w.offset);
        } catch (e) {
          writes[i] = taskError(e);
        }
      }
      for (const p of pieces[b]!) {
        if (files[p.file] === undefined) {
          try {
            fds[p.file] ??= createPart(req.files[p.file]!);
            writeAll(fds[p.file]!, raw, p.offset);
          } catch (e) {
            files[p.file] = taskError(e);
          }
        }
        pieceSettled(p.file);
      }
    }
    // close errors count: on some file systems that is where a failed write shows
    for (const [part, fd] of partFds) {
      partFds.delete(part);
      try {
        fs.closeSync(fd);
      } catch (e) {
        req.writes.forEach((w, i) => {
          if (w.part === part) writes[i] ??= taskError(e);
        });
      }
    }
    // files with no piece in this range (none are sent so, but a file is never left half-done)
    req.files.forEach((_, i) => settle(i));
  } finally {
    // whole files' descriptors are only still open here if something above threw unexpectedly
    for (const fd of fds) if (fd !== undefined) fs.closeSync(fd);
    for (const fd of partFds.values()) fs.closeSync(fd);
  }
  return { blobs, writes, files };
}

/**
 * A file of several pieces is given its final size first, as the main thread does, so that
 * the pieces of a part file left by a killed run can be kept (FileWriter.resume).
 */
function createPart(f: WholeFile): number {
  const fd = fs.openSync(f.part, PART_CREATE_FLAGS, PART_CREATE_MODE);
  try {
    if (f.pieces.length > 1) fs.ftruncateSync(fd, f.size);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done);
}

/** Best effort: the file's failure is what gets reported, not a failure to clean up after it. */
function discard(part: string, fd: number | undefined): void {
  try {
    if (fd !== undefined) fs.closeSync(fd);
  } catch {
    // already reported through the file's failure
  }
  try {
    fs.rmSync(part, { force: true });
  } catch {
    // idem
  }
}

function taskError(e: unknown): TaskError {
  const error = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  return e instanceof IntegrityError ? { error, objectKey: e.objectKey } : { error };
}
