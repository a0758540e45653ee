/**
 * Reading a source file in a worker: opened without following a symlink (the walk saw a
 * regular file; if it became a link since, it is not followed), read whole, and checked for
 * change: size, mtime, ctime and inode taken with fstat before and after (DESIGN invariant 4:
 * the source is only read, and a file written meanwhile is read again, up to READ_ATTEMPTS
 * times, then reported). Synchronous calls: they block a worker, not the main thread.
 * @module
 */
import { constants as fsc, fstatSync, openSync, readSync } from 'node:fs';

export const READ_ATTEMPTS = 3;

export function openSource(path: string): number {
  return openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
export function readFully(fd: number, buf: Buffer, position = 0): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export interface FileIdentityWire {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
}

export function identity(fd: number): FileIdentityWire {
  const st = fstatSync(fd, { bigint: true });
  return { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev };
}

export function same(a: FileIdentityWire, b: FileIdentityWire): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}
