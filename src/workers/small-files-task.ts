/**
 * Backing up a batch of small files inside a worker thread: each file is one chunk, read in
 * one go, named with its keyed id; one question to the main thread covers the whole batch
 * (which ids are new), and the new ones are sealed into this worker's pack like large
 * files' chunks (worker-packer.ts). Per file, the main thread only sends a path and gets an id back: for a
 * tree of many small files, reading, hashing, sealing and the messages per file were the
 * main thread's largest costs.
 *
 * Each file is checked for change like a large one (identity before and after the read, up
 * to three reads). A file that grew to a chunk or more since the walk is handed back, to be
 * chunked as a large file. An error on one file (deleted, unreadable) is that file's result,
 * not the batch's.
 * @module
 */
import { closeSync } from 'node:fs';
import { keyedId } from '../crypto/blob-id.js';
import { idFromBytes, type BlobId } from '../domain/ids.js';
import { identity, openSource, READ_ATTEMPTS, readFully, same, type FileIdentityWire } from './file-identity.js';
import type { TaskContext } from './pool.js';
import type { WorkerPacker } from './worker-packer.js';

export type SmallFileResult =
  | {
      readonly kind: 'saved';
      readonly content: BlobId[];
      readonly size: number;
      readonly bytesRead: number;
      readonly identity: FileIdentityWire;
      readonly changedWhileRead: boolean;
    }
  /** the file now holds at least one minimum chunk: chunk it as a large file */
  | { readonly kind: 'large' }
  | { readonly kind: 'error'; readonly message: string; readonly code?: string };

interface ReadFile {
  readonly bytes: Buffer;
  readonly bytesRead: number;
  readonly identity: FileIdentityWire;
  readonly changedWhileRead: boolean;
}

export async function saveSmallFiles(
  paths: readonly string[],
  minChunk: number,
  idKey: Uint8Array,
  packer: WorkerPacker,
  ctx: TaskContext,
): Promise<SmallFileResult[]> {
  const arena = new BatchArena();
  let named: { i: number; id: BlobId; bytes: Buffer }[];
  let read: (ReadFile | Exclude<SmallFileResult, { kind: 'saved' }>)[];
  try {
    read = paths.map((p) => readSmall(p, minChunk, arena));
    named = read.flatMap((r, i) => ('bytes' in r && r.bytes.length > 0 ? [{ i, id: idFromBytes<BlobId>(keyedId(idKey, r.bytes)), bytes: r.bytes }] : []));
    if (named.length) await packer.storeNew(named.map((n) => n.id), named.map((n) => n.bytes), ctx);
  } finally {
    arena.release(); // the files' bytes are sealed and written (or not needed): the memory serves the next batch
  }
  const ids = new Map(named.map((n) => [n.i, n.id]));
  return read.map((r, i): SmallFileResult => {
    if (!('bytes' in r)) return r;
    const id = ids.get(i);
    return { kind: 'saved', content: id ? [id] : [], size: r.bytes.length, bytesRead: r.bytesRead, identity: r.identity, changedWhileRead: r.changedWhileRead };
  });
}

/** Free batch buffers of this thread; a batch takes one, and gives it back when done. */
const freeArenas: Buffer[] = [];
/** A batch is about 2 MiB of files (archiver/small-file-batch.ts): room for it, and for a file that grew. */
const ARENA_BYTES = 4 * 1024 * 1024;

/**
 * Where a batch's files are read, one after the other, in memory reused from batch to batch.
 * A buffer per file (a few hundred thousand of them in a large tree) was garbage that an idle
 * worker's collector left for long, and the process grew with it. Files that do not fit get a
 * buffer of their own. Two batches running on one thread (one waits for its dedup answer)
 * each have their own.
 */
class BatchArena {
  private readonly buf = freeArenas.pop() ?? Buffer.allocUnsafeSlow(ARENA_BYTES);
  private used = 0;

  take(n: number): Buffer {
    if (this.used + n > this.buf.length) return Buffer.allocUnsafe(n);
    const out = this.buf.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }

  release(): void {
    freeArenas.push(this.buf);
  }
}

function readSmall(path: string, minChunk: number, arena: BatchArena): ReadFile | Exclude<SmallFileResult, { kind: 'saved' }> {
  let bytesRead = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      const fd = openSource(path);
      try {
        const before = identity(fd);
        if (before.size >= BigInt(minChunk)) return { kind: 'large' };
        // One read into a buffer of the size fstat gave; growth or shrinkage shows in the identity check.
        const buf = arena.take(Number(before.size));
        const n = readFully(fd, buf);
        bytesRead += n;
        const after = identity(fd);
        const stable = same(before, after) && BigInt(n) === after.size;
        if (stable || attempt >= READ_ATTEMPTS) return { bytes: buf.subarray(0, n), bytesRead, identity: before, changedWhileRead: !stable };
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { kind: 'error', message: e instanceof Error ? e.message : String(e), ...(typeof code === 'string' ? { code } : {}) };
  }
}
