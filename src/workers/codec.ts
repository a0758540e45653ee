/**
 * The blob codec behind a worker pool: what the repository calls to seal and open blobs,
 * and what a backup calls to chunk, name and seal a large file off the main thread.
 * @module
 */
import type { BlobId } from '../domain/ids.js';
import type { ChunkSizes } from '../chunker/fastcdc.js';
import { decodeBlob, encodeBlob, withPackKey, type BlobKeys, type BlobType } from '../repository/blob-codec.js';
import { codecHandler, type CodecRequest, type CodecWorkerData, type RangeBlob } from './codec-tasks.js';
import type { ChunkFileResult } from './file-task.js';
import type { DedupQuery, PackFilled } from './worker-packer.js';
import type { SpooledPack } from '../repository/pack-spool.js';
import type { SmallFileResult } from './small-files-task.js';
import type { RestoreRangeReport, RestoreRangeResult, RestoreTargets } from './restore-task.js';
import { defaultPoolSize, WorkerPool, workerScript } from './pool.js';
import { detached, handOver } from './transfer.js';

export type { SmallFileResult } from './small-files-task.js';
export type { PartWrite, RestoreRangeReport, RestoreTargets, TaskError, WholeFile } from './restore-task.js';

export interface FileConversation {
  /** For each id, whether the worker should seal and store that chunk (it is new). */
  dedup(ids: readonly BlobId[]): Promise<boolean[]> | boolean[];
  /** A worker filled a pack on the way (it holds chunks of this and earlier files). */
  pack(pack: SpooledPack): void;
}

/** How packs built in worker threads are sealed: their target size and write-only session. */
export interface WorkerPacking {
  readonly packSize: number;
  readonly sessionId?: Uint8Array;
}

/**
 * Blobs smaller than this are sealed on the calling thread: compressing and sealing a few
 * hundred bytes takes a few µs, less than posting them to a worker and back (a profile of
 * 200,000 files of 80-400 bytes: 5.7 s of the main thread in postMessage).
 */
const INLINE_SEAL_MAX = 2048;
/**
 * Trees up to this size (sealed) are opened on the calling thread. A walk through a snapshot
 * waits for each directory's tree before it can ask for the ones below, so a round trip to a
 * worker per tree lengthened every level, and the first tree waited for the threads to boot
 * (about 0.1 s): a restore plans, and a check walks, while the workers start. A tree of a
 * directory of 500 files is about 20 KiB sealed (90 KB of entries) and opens in well under a
 * millisecond.
 */
const INLINE_OPEN_TREE_MAX = 64 * 1024;

export class CodecPool {
  private readonly pool: WorkerPool<CodecRequest, unknown>;

  constructor(
    private readonly keys: BlobKeys,
    private readonly level: number,
    chunker: ChunkSizes & { seed: string },
    packing: WorkerPacking,
    size = defaultPoolSize(),
  ) {
    const data: CodecWorkerData = { dataKey: keys.dataKey, idKey: keys.idKey, level, chunker, packing };
    const script = size > 0 ? workerScript('codec-worker', import.meta.url) : undefined;
    this.pool = new WorkerPool(script, data, size, codecHandler(data));
  }

  /** Starts the worker threads now (each loads its modules: ~0.1 s) so that they are ready for the first task. */
  warmUp(): void {
    this.pool.warmUp();
  }

  get threads(): number {
    return this.pool.size;
  }

  /** The threads started so far (they start as tasks need them, or all at `warmUp`). */
  get startedThreads(): number {
    return this.pool.started;
  }

  /** Compresses (when it pays) and seals; `raw` is moved to the worker when it owns its buffer: do not reuse it. */
  async seal(type: BlobType, id: BlobId, raw: Uint8Array): Promise<Buffer> {
    if (raw.length < INLINE_SEAL_MAX) return encodeBlob(type, id, raw, this.keys.dataKey, this.level);
    const d = this.pool.size > 0 ? detached(raw) : { buf: raw, transfer: [] };
    return toBuffer((await this.pool.run({ op: 'seal', type, id, raw: d.buf }, d.transfer)) as Uint8Array);
  }

  /**
   * Opens a sealed blob; `sealed` is copied if it is a view into a larger buffer. `key`: the
   * pack's key when it is not the data key (a write-only session's).
   */
  async open(type: BlobType, id: BlobId, sealed: Uint8Array, rawLength: number, where: string, key?: Uint8Array): Promise<Buffer> {
    if (type === 'tree' && sealed.length <= INLINE_OPEN_TREE_MAX) {
      return decodeBlob(sealed, type, id, rawLength, withPackKey(this.keys, key), where);
    }
    const d = this.pool.size > 0 ? detached(sealed) : { buf: sealed, transfer: [] };
    return toBuffer((await this.pool.run({ op: 'open', type, id, sealed: d.buf, rawLength, where, ...(key ? { key } : {}) }, d.transfer)) as Uint8Array);
  }

  /**
   * Opens every blob of one fetched range of a pack and writes it where it goes, in a worker
   * (restore-task.ts): to part files named in `writes`, and whole files created, finished
   * and renamed there. The range's whole buffer moves to the worker without a copy (do not
   * use it afterwards: its bytes are decrypted in place) and comes back with the report, as
   * `range`, for the caller to read another range into.
   */
  async restoreRange(
    range: Buffer,
    base: number,
    blobs: readonly RangeBlob[],
    where: string,
    targets: RestoreTargets,
    key?: Uint8Array,
  ): Promise<{ report: RestoreRangeReport; range?: Buffer }> {
    const d = this.pool.size > 0 ? handOver(range) : { buf: range, transfer: [] };
    const req = { op: 'restore-range', range: d.buf, base, blobs, where, writes: targets.writes, files: targets.files, ...(key ? { key } : {}) } as const;
    const out = (await this.pool.run(req, d.transfer)) as RestoreRangeResult;
    return { report: out.report, ...(out.range ? { range: toBuffer(out.range) } : {}) };
  }

  /**
   * Chunks, names and seals one file in a worker, which writes new chunks to its pack file in
   * `spoolDir`; packs it fills on the way arrive through `talk.pack`.
   */
  chunkFile(path: string, spoolDir: string, talk: FileConversation): Promise<ChunkFileResult> {
    return this.pool.run({ op: 'chunk-file', path, spoolDir }, [], (msg) => this.converse(msg, talk)) as Promise<ChunkFileResult>;
  }

  /**
   * Reads, names and seals a batch of small files (each one chunk) in a worker, with one
   * dedup question for the batch; results come in the order of `paths`.
   */
  saveSmallFiles(paths: readonly string[], minChunk: number, spoolDir: string, talk: FileConversation): Promise<SmallFileResult[]> {
    return this.pool.run({ op: 'save-files', paths, minChunk, spoolDir }, [], (msg) => this.converse(msg, talk)) as Promise<SmallFileResult[]>;
  }

  /** Closes the pack each worker is filling (the end of a backup): the non-empty ones. */
  async finishPacks(): Promise<SpooledPack[]> {
    const packs = (await this.pool.runOnEach({ op: 'finish-pack' })) as (SpooledPack | null)[];
    return packs.filter((p): p is SpooledPack => p !== null).map(spooledPack);
  }

  /** Drops the packs the workers are filling (a failed backup): their files are removed. */
  async discardPacks(): Promise<void> {
    await this.pool.runOnEach({ op: 'discard-pack' });
  }

  private converse(msg: unknown, talk: FileConversation): unknown {
    const m = msg as DedupQuery | PackFilled;
    if (m.kind === 'dedup') return talk.dedup(m.ids);
    talk.pack(spooledPack(m.pack));
    return undefined;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** A pack as it arrives from a worker: its digest came as a plain Uint8Array. */
function spooledPack(p: SpooledPack): SpooledPack {
  return { ...p, file: { ...p.file, sha256: toBuffer(p.file.sha256) } };
}
