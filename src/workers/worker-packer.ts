/**
 * The data pack a worker thread fills, and how blobs get into it: the worker asks the main
 * thread which of its blobs are new (it alone knows the index and what other workers hold),
 * seals those into reused scratch memory and appends them to its pack file (pack-spool.ts).
 * The files the worker saves, large or small, share the pack in turn; a full pack is told to
 * the main thread, which stores it.
 * @module
 */
import type { BlobId } from '../domain/ids.js';
import { SealScratch } from '../repository/blob-codec.js';
import type { SealingKey } from '../repository/envelope.js';
import { packIsFull } from '../repository/pack.js';
import { PackSpool, type SpooledPack } from '../repository/pack-spool.js';
import { fsStorageError } from '../storage/fs-errors.js';
import type { TaskContext } from './pool.js';

/** Asked of the main thread: for each id, true if this worker should seal and store the blob. */
export interface DedupQuery {
  readonly kind: 'dedup';
  readonly ids: BlobId[];
}

/** Told to the main thread: a pack this worker filled, ready for storage. */
export interface PackFilled {
  readonly kind: 'pack';
  readonly pack: SpooledPack;
}

export class WorkerPacker {
  private readonly spool: PackSpool;
  private readonly scratch = new SealScratch();

  constructor(
    private readonly dir: string,
    private readonly sealing: SealingKey,
    private readonly packSize: number,
    /** zstd level for the blobs (the repository's) */
    private readonly level: number,
  ) {
    this.spool = new PackSpool(dir);
  }

  /**
   * Stores the new ones of `raws` (named `ids`). Once the main thread has answered, the new
   * ids are this worker's to store: other files may already count on them. A failure from
   * there on (the pack file cannot be written, the disk is full) is therefore the backup's,
   * not the file's: it is thrown as a StorageError, which stops the backup, and the pack
   * being filled is dropped (a half-written blob must never end up in a stored pack).
   */
  async storeNew(ids: readonly BlobId[], raws: readonly Uint8Array[], ctx: TaskContext): Promise<void> {
    const wanted = (await ctx.ask({ kind: 'dedup', ids: [...ids] } satisfies DedupQuery)) as boolean[];
    this.guarded(() => {
      for (const [i, raw] of raws.entries()) {
        if (!wanted[i]) continue;
        this.spool.add('data', ids[i]!, this.scratch.encode('data', ids[i]!, raw, this.sealing.key, this.level), raw.length);
        if (packIsFull(this.spool.size, this.spool.count, this.packSize, this.sealing)) {
          ctx.tell({ kind: 'pack', pack: this.spool.finish(this.sealing) } satisfies PackFilled);
        }
      }
    });
  }

  /** The pack being filled, closed now; null when it is empty. */
  finish(): SpooledPack | null {
    return this.guarded(() => (this.spool.count > 0 ? this.spool.finish(this.sealing) : null));
  }

  discard(): void {
    this.spool.discard();
  }

  private guarded<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      try {
        this.spool.discard();
      } catch {
        // the file is already unusable; its name holds the pid, so the next run removes it
      }
      throw fsStorageError(e, `pack file in ${this.dir}`);
    }
  }
}
