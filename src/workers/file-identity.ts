/**
 * What says a file did not change while it was read: size, mtime, ctime and inode, taken
 * with fstat before and after (DESIGN invariant 4: the source is only read, and a file
 * written meanwhile is read again or reported).
 * @module
 */
import { fstatSync } from 'node:fs';

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
