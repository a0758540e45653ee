/**
 * Reads one file, cuts it into content-defined chunks, names each chunk by its keyed id
 * and hands new ones to the write session. The source is only ever read (DESIGN
 * invariant 4): a file that changes while it is read (size or mtime differ before and
 * after) is read again, up to three times, and then stored as read with a warning.
 * @module
 */
import { constants as fsc, type BigIntStats } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { BlobId } from '../domain/ids.js';
import { ChunkAssembler } from '../chunker/assembler.js';
import type { FastCdc } from '../chunker/fastcdc.js';
import type { WriteSession } from '../repository/write-session.js';
import type { FileIdentity } from './file-cache.js';

const READ_BYTES = 1024 * 1024;
const MAX_ATTEMPTS = 3;

export interface SavedFile {
  readonly content: BlobId[];
  readonly size: number;
  readonly bytesRead: number;
  /** the identity seen when the read began (for the file-change cache) */
  readonly identity: FileIdentity;
  readonly changedWhileRead: boolean;
}

export interface FileSaverDeps {
  readonly session: WriteSession;
  readonly cdc: FastCdc;
  readonly minChunk: number;
  blobId(raw: Uint8Array): BlobId;
}

export function identityOf(st: BigIntStats): FileIdentity {
  return { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev };
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

export async function saveFile(path: string, deps: FileSaverDeps): Promise<SavedFile> {
  let bytesRead = 0;
  for (let attempt = 1; ; attempt++) {
    // O_NOFOLLOW: the walk saw a regular file; if it became a symlink since, do not follow it.
    const fh = await fs.open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const before = identityOf(await fh.stat({ bigint: true }));
      const { content, size } = await readChunks(fh, before.size, deps);
      bytesRead += size;
      const after = identityOf(await fh.stat({ bigint: true }));
      const stable = sameIdentity(before, after) && BigInt(size) === after.size;
      if (stable || attempt >= MAX_ATTEMPTS) {
        return { content, size, bytesRead, identity: before, changedWhileRead: !stable };
      }
    } finally {
      await fh.close();
    }
  }
}

async function readChunks(fh: fs.FileHandle, expected: bigint, deps: FileSaverDeps): Promise<{ content: BlobId[]; size: number }> {
  const content: BlobId[] = [];
  const save = async (chunk: Buffer) => {
    const id = deps.blobId(chunk);
    content.push(id);
    await deps.session.saveBlob('data', id, chunk);
  };
  // Small files are one chunk: read them in one go into a buffer of exactly their size.
  // Growth or shrinkage during the read shows in the identity check of the caller.
  if (expected < BigInt(deps.minChunk)) {
    const buf = Buffer.allocUnsafeSlow(Number(expected));
    const n = await readFully(fh, buf);
    if (n > 0) await save(n === buf.length ? buf : copyOwned(buf, n));
    return { content, size: n };
  }
  const asm = new ChunkAssembler(deps.cdc);
  let size = 0;
  for (;;) {
    const buf = Buffer.allocUnsafeSlow(READ_BYTES);
    const n = await readFully(fh, buf, size);
    if (n === 0) break;
    size += n;
    for (const chunk of asm.push(buf.subarray(0, n))) await save(chunk);
    if (n < buf.length) break;
  }
  const last = asm.end();
  if (last) await save(last);
  return { content, size };
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
async function readFully(fh: fs.FileHandle, buf: Buffer, position = 0): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

function copyOwned(buf: Buffer, n: number): Buffer {
  const out = Buffer.allocUnsafeSlow(n);
  buf.copy(out, 0, 0, n);
  return out;
}
