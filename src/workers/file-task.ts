/**
 * Backing up one large file inside a worker thread: read it, cut it into chunks, name each
 * chunk with its keyed id, ask the main thread which chunks are new (it alone knows the
 * index and what other workers are sealing), then compress and seal only those and write
 * them to this worker's pack file (worker-packer.ts). Only ids and finished packs' names cross
 * to the main thread, never the data.
 *
 * Memory is one window per file being read (chunker/window.ts) and the seal scratch of the
 * thread: chunks are views of the window, so reading and chunking allocate nothing per
 * chunk. One question per read covers the chunks that read completed.
 *
 * The source is only read and checked for change while it is read (file-identity.ts).
 * @module
 */
import { closeSync } from 'node:fs';
import { identity, openSource, READ_ATTEMPTS, readFully, same, type FileIdentityWire } from './file-identity.js';
import { isZeroChunk, type FastCdc } from '../chunker/fastcdc.js';
import { ChunkWindow } from '../chunker/window.js';
import { keyedId } from '../crypto/blob-id.js';
import { idFromBytes, type BlobId } from '../domain/ids.js';
import type { TaskContext } from './pool.js';
import type { WorkerPacker } from './worker-packer.js';

const READ_BYTES = 1024 * 1024;


export interface ChunkFileResult {
  readonly content: BlobId[];
  readonly size: number;
  readonly bytesRead: number;
  readonly identity: FileIdentityWire;
  readonly changedWhileRead: boolean;
}

export async function chunkFile(path: string, cdc: FastCdc, idKey: Uint8Array, packer: WorkerPacker, ctx: TaskContext): Promise<ChunkFileResult> {
  let bytesRead = 0;
  for (let attempt = 1; ; attempt++) {
    const fd = openSource(path);
    try {
      const before = identity(fd);
      const { content, size } = await readAll(fd, Number(before.size), cdc, idKey, packer, ctx);
      bytesRead += size;
      const after = identity(fd);
      const stable = same(before, after) && BigInt(size) === after.size;
      if (stable || attempt >= READ_ATTEMPTS) return { content, size, bytesRead, identity: before, changedWhileRead: !stable };
    } finally {
      closeSync(fd);
    }
  }
}

async function readAll(fd: number, expected: number, cdc: FastCdc, idKey: Uint8Array, packer: WorkerPacker, ctx: TaskContext): Promise<{ content: BlobId[]; size: number }> {
  const window = new ChunkWindow(cdc, READ_BYTES, expected);
  const content: BlobId[] = [];
  let size = 0;
  for (let eof = false; !eof; ) {
    const room = window.room(size);
    const n = readFully(fd, room, size);
    size += n;
    eof = n < room.length || n === 0;
    const chunks = window.commit(n, eof);
    if (chunks.length) await store(chunks, idKey, packer, ctx, content);
  }
  window.release();
  return { content, size };
}

/**
 * Ids of chunks of zeros, by id key and length: a sparse file or a disk image is thousands of
 * identical chunks of zeros (all of the largest size but a few), named once each here.
 */
const zeroIds = new WeakMap<Uint8Array, Map<number, Uint8Array>>();
const ZERO_IDS_KEPT = 16;

function chunkId(idKey: Uint8Array, c: Uint8Array): Uint8Array {
  if (!isZeroChunk(c)) return keyedId(idKey, c);
  let byLength = zeroIds.get(idKey);
  if (!byLength) zeroIds.set(idKey, (byLength = new Map()));
  let id = byLength.get(c.length);
  if (!id) {
    id = keyedId(idKey, c);
    if (byLength.size < ZERO_IDS_KEPT) byLength.set(c.length, id);
  }
  return id;
}

/** Names the chunks and stores the new ones; `content` gets every id. */
async function store(chunks: readonly Buffer[], idKey: Uint8Array, packer: WorkerPacker, ctx: TaskContext, content: BlobId[]): Promise<void> {
  const ids = chunks.map((c) => idFromBytes<BlobId>(chunkId(idKey, c)));
  content.push(...ids);
  await packer.storeNew(ids, chunks, ctx);
}
