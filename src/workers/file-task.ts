/**
 * Backing up one large file inside a worker thread: read it, cut it into chunks, name each
 * chunk with its keyed id, ask the main thread which chunks are new (it alone knows the
 * index and what other workers are sealing), then compress and seal only those and hand
 * them over. Chunks travel in batches of about BATCH_BYTES so the conversation costs little
 * and at most one batch per worker is held in memory.
 *
 * The source is only read (DESIGN invariant 4): a file that changes while it is read (size,
 * mtime, ctime or inode differ before and after) is read again, up to three times, and then
 * reported as changed. Synchronous reads are fine here: they block this worker, not the
 * main thread.
 * @module
 */
import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import { ChunkAssembler } from '../chunker/assembler.js';
import type { FastCdc } from '../chunker/fastcdc.js';
import { keyedId } from '../crypto/blob-id.js';
import { idFromBytes, type BlobId } from '../domain/ids.js';
import { encodeBlob } from '../repository/blob-codec.js';
import type { TransferListItem } from 'node:worker_threads';
import { handOver } from './transfer.js';
import type { TaskContext } from './pool.js';

const READ_BYTES = 1024 * 1024;
const BATCH_BYTES = 2 * 1024 * 1024;
const MAX_ATTEMPTS = 3;

export interface FileIdentityWire {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
}

export interface ChunkFileResult {
  readonly content: BlobId[];
  readonly size: number;
  readonly bytesRead: number;
  readonly identity: FileIdentityWire;
  readonly changedWhileRead: boolean;
}

/** Asked of the main thread: for each id, true if this worker should seal and send the chunk. */
export interface DedupQuery {
  readonly kind: 'dedup';
  readonly ids: BlobId[];
}

/** Told to the main thread: sealed new chunks, ready for a pack. */
export interface SealedBlobs {
  readonly kind: 'sealed';
  readonly blobs: { id: BlobId; sealed: Uint8Array; rawLength: number }[];
}

export interface FileTaskKeys {
  readonly dataKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly level: number;
}

export async function chunkFile(path: string, cdc: FastCdc, keys: FileTaskKeys, ctx: TaskContext): Promise<ChunkFileResult> {
  let bytesRead = 0;
  for (let attempt = 1; ; attempt++) {
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const before = identity(fd);
      const { content, size } = await readAll(fd, cdc, keys, ctx);
      bytesRead += size;
      const after = identity(fd);
      const stable = same(before, after) && BigInt(size) === after.size;
      if (stable || attempt >= MAX_ATTEMPTS) return { content, size, bytesRead, identity: before, changedWhileRead: !stable };
    } finally {
      closeSync(fd);
    }
  }
}

async function readAll(fd: number, cdc: FastCdc, keys: FileTaskKeys, ctx: TaskContext): Promise<{ content: BlobId[]; size: number }> {
  const asm = new ChunkAssembler(cdc);
  const content: BlobId[] = [];
  let batch: { id: BlobId; raw: Buffer }[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const wanted = (await ctx.ask({ kind: 'dedup', ids: batch.map((c) => c.id) } satisfies DedupQuery)) as boolean[];
    const blobs: SealedBlobs['blobs'] = [];
    const transfer: TransferListItem[] = [];
    for (const [i, c] of batch.entries()) {
      if (!wanted[i]) continue;
      const d = handOver(encodeBlob('data', c.id, c.raw, keys.dataKey, keys.level));
      blobs.push({ id: c.id, sealed: d.buf, rawLength: c.raw.length });
      transfer.push(...d.transfer);
    }
    if (blobs.length) ctx.tell({ kind: 'sealed', blobs } satisfies SealedBlobs, transfer);
    batch = [];
    batchBytes = 0;
  };
  const add = async (raw: Buffer) => {
    const id = idFromBytes<BlobId>(keyedId(keys.idKey, raw));
    content.push(id);
    batch.push({ id, raw });
    batchBytes += raw.length;
    if (batchBytes >= BATCH_BYTES) await flush();
  };
  let size = 0;
  for (;;) {
    const buf = Buffer.allocUnsafeSlow(READ_BYTES);
    const n = readFully(fd, buf, size);
    if (n === 0) break;
    size += n;
    for (const chunk of asm.push(buf.subarray(0, n))) await add(chunk);
    if (n < buf.length) break;
  }
  const last = asm.end();
  if (last) await add(last);
  await flush();
  return { content, size };
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function identity(fd: number): FileIdentityWire {
  const st = fstatSync(fd, { bigint: true });
  return { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev };
}

function same(a: FileIdentityWire, b: FileIdentityWire): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}
