/**
 * Backing up one large file inside a worker thread: read it, cut it into chunks, name each
 * chunk with its keyed id, ask the main thread which chunks are new (it alone knows the
 * index and what other workers are sealing), then compress and seal only those and write
 * them to this worker's pack file (WorkerPacker). Only ids and finished packs' names cross
 * to the main thread, never the data.
 *
 * Memory is one window per file being read (chunker/window.ts) and the seal scratch of the
 * thread: chunks are views of the window, so reading and chunking allocate nothing per
 * chunk. One question per read covers the chunks that read completed.
 *
 * The source is only read (DESIGN invariant 4): a file that changes while it is read (size,
 * mtime, ctime or inode differ before and after) is read again, up to three times, and then
 * reported as changed. Synchronous reads are fine here: they block this worker, not the
 * main thread.
 * @module
 */
import { closeSync, constants as fsc, openSync, readSync } from 'node:fs';
import { identity, same, type FileIdentityWire } from './file-identity.js';
import type { FastCdc } from '../chunker/fastcdc.js';
import { ChunkWindow } from '../chunker/window.js';
import { keyedId } from '../crypto/blob-id.js';
import { idFromBytes, type BlobId } from '../domain/ids.js';
import { SealScratch } from '../repository/blob-codec.js';
import type { SealingKey } from '../repository/envelope.js';
import { packIsFull } from '../repository/pack.js';
import { PackSpool, type SpooledPack } from '../repository/pack-spool.js';
import type { TaskContext } from './pool.js';

const READ_BYTES = 1024 * 1024;
const MAX_ATTEMPTS = 3;

export type { FileIdentityWire } from './file-identity.js';

export interface ChunkFileResult {
  readonly content: BlobId[];
  readonly size: number;
  readonly bytesRead: number;
  readonly identity: FileIdentityWire;
  readonly changedWhileRead: boolean;
}

/** Asked of the main thread: for each id, true if this worker should seal and store the chunk. */
export interface DedupQuery {
  readonly kind: 'dedup';
  readonly ids: BlobId[];
}

/** Told to the main thread: a pack this worker filled, ready for storage. */
export interface PackFilled {
  readonly kind: 'pack';
  readonly pack: SpooledPack;
}

export interface FileTaskKeys {
  readonly dataKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly level: number;
}

/** The data pack a worker thread is filling: the files it chunks append to it in turn. */
export class WorkerPacker {
  private readonly spool: PackSpool;
  readonly scratch = new SealScratch();

  constructor(
    dir: string,
    private readonly sealing: SealingKey,
    private readonly packSize: number,
  ) {
    this.spool = new PackSpool(dir);
  }

  /** Adds a sealed blob; returns the pack when this blob completed it. */
  add(id: BlobId, sealed: Uint8Array, rawLength: number): SpooledPack | undefined {
    this.spool.add('data', id, sealed, rawLength);
    return packIsFull(this.spool.size, this.spool.count, this.packSize, this.sealing) ? this.spool.finish(this.sealing) : undefined;
  }

  /** The pack being filled, closed now; null when it is empty. */
  finish(): SpooledPack | null {
    return this.spool.count > 0 ? this.spool.finish(this.sealing) : null;
  }

  discard(): void {
    this.spool.discard();
  }
}

export async function chunkFile(path: string, cdc: FastCdc, keys: FileTaskKeys, packer: WorkerPacker, ctx: TaskContext): Promise<ChunkFileResult> {
  let bytesRead = 0;
  for (let attempt = 1; ; attempt++) {
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const before = identity(fd);
      const { content, size } = await readAll(fd, Number(before.size), cdc, keys, packer, ctx);
      bytesRead += size;
      const after = identity(fd);
      const stable = same(before, after) && BigInt(size) === after.size;
      if (stable || attempt >= MAX_ATTEMPTS) return { content, size, bytesRead, identity: before, changedWhileRead: !stable };
    } finally {
      closeSync(fd);
    }
  }
}

async function readAll(fd: number, expected: number, cdc: FastCdc, keys: FileTaskKeys, packer: WorkerPacker, ctx: TaskContext): Promise<{ content: BlobId[]; size: number }> {
  const window = new ChunkWindow(cdc, READ_BYTES, expected);
  const content: BlobId[] = [];
  let size = 0;
  for (let eof = false; !eof; ) {
    const room = window.room(size);
    const n = readFully(fd, room, size);
    size += n;
    eof = n < room.length || n === 0;
    const chunks = window.commit(n, eof);
    if (chunks.length) await store(chunks, keys, packer, ctx, content);
  }
  window.release();
  return { content, size };
}

/** Names the chunks, asks which are new, seals those into the pack; `content` gets every id. */
async function store(chunks: readonly Buffer[], keys: FileTaskKeys, packer: WorkerPacker, ctx: TaskContext, content: BlobId[]): Promise<void> {
  const ids = chunks.map((c) => idFromBytes<BlobId>(keyedId(keys.idKey, c)));
  content.push(...ids);
  const wanted = (await ctx.ask({ kind: 'dedup', ids } satisfies DedupQuery)) as boolean[];
  for (const [i, chunk] of chunks.entries()) {
    if (!wanted[i]) continue;
    const sealed = packer.scratch.encode('data', ids[i]!, chunk, keys.dataKey, keys.level);
    const pack = packer.add(ids[i]!, sealed, chunk.length);
    if (pack) ctx.tell({ kind: 'pack', pack } satisfies PackFilled);
  }
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
