/**
 * Loading many tree blobs at once. Walking a snapshot one tree at a time costs one round
 * trip per directory, which on S3 (tens of milliseconds each, more on a busy server)
 * dominates a restore plan or a check. A TreeLoader lets recursive walkers ask for every
 * child directory at once while keeping at most `concurrency` reads in flight, and shares
 * a read between callers asking for the same tree.
 *
 * It also reads in blocks once a walk proves to be a bulk one: after a few trees from the
 * same pack, the pack is read in aligned blocks of BLOCK bytes (a backup writes the trees
 * of a directory tree next to each other, so one block holds hundreds of them), kept in a
 * small cache of CACHE_BLOCKS blocks. Walking 10,000 directories then costs a handful of
 * requests instead of 10,000, while a walk down to one file still reads only its trees.
 * @module
 */
import { IntegrityError } from '../domain/errors.js';
import type { BlobId, PackId } from '../domain/ids.js';
import type { IndexedBlob } from './blob-index.js';
import { packKey } from './layout.js';
import type { Repository } from './repository.js';
import type { Tree } from './tree.js';
import { Semaphore } from '../util/semaphore.js';

/** Default reads in flight: enough to hide S3 latency, few enough to be polite. */
export const TREE_CONCURRENCY = 16;
/** Exact reads from one pack before it is read in blocks. */
const EXACT_READS = 8;
const BLOCK = 1024 * 1024;
const CACHE_BLOCKS = 32;

export class TreeLoader {
  private readonly limiter: Semaphore;
  private readonly inflight = new Map<BlobId, Promise<Tree>>();
  private readonly exactReads = new Map<PackId, number>();
  private readonly packSizes = new Map<PackId, Promise<number>>();
  /** "packId:block" → the block's bytes (or the read in flight), least recently used first */
  private readonly blocks = new Map<string, Promise<Buffer>>();
  /** requests made, for tests and measurements */
  readonly stats = { exact: 0, blocks: 0 };

  constructor(
    private readonly repo: Repository,
    concurrency = TREE_CONCURRENCY,
  ) {
    this.limiter = new Semaphore(concurrency);
  }

  read(id: BlobId): Promise<Tree> {
    let p = this.inflight.get(id);
    if (!p) {
      p = this.limiter.run(() => this.repo.readTree(id, (b) => this.fetch(b))).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async fetch(b: IndexedBlob): Promise<Uint8Array> {
    const key = packKey(b.packId);
    const n = this.exactReads.get(b.packId) ?? 0;
    const first = Math.floor(b.offset / BLOCK);
    const last = Math.floor((b.offset + b.length - 1) / BLOCK);
    const cached = first === last && this.blocks.has(`${b.packId}:${first}`);
    if (!cached && (n < EXACT_READS || first !== last || !this.repo.storage.capabilities.rangeReads)) {
      this.exactReads.set(b.packId, n + 1);
      this.stats.exact++;
      return this.repo.storage.getRange(key, b.offset, b.length);
    }
    const block = await this.block(b.packId, first);
    const at = b.offset - first * BLOCK;
    const sealed = block.subarray(at, at + b.length);
    if (sealed.length !== b.length) throw new IntegrityError(key, `${key}: truncated: blob ${b.id.slice(0, 8)} lies past its end`);
    // A copy when the blob is the whole block: the codec may move a buffer it owns to a worker.
    return sealed.length === block.length ? Buffer.from(sealed) : sealed;
  }

  private block(packId: PackId, i: number): Promise<Buffer> {
    const name = `${packId}:${i}`;
    let p = this.blocks.get(name);
    if (p) {
      this.blocks.delete(name); // most recently used last
    } else {
      p = (async () => {
        const size = await this.packSize(packId);
        const start = i * BLOCK;
        if (start >= size) throw new IntegrityError(packKey(packId), `${packKey(packId)}: truncated (${size} bytes)`);
        this.stats.blocks++;
        return this.repo.storage.getRange(packKey(packId), start, Math.min(BLOCK, size - start));
      })();
      p.catch(() => this.blocks.delete(name)); // a failed read is not cached
    }
    this.blocks.set(name, p);
    while (this.blocks.size > CACHE_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
    return p;
  }

  private packSize(packId: PackId): Promise<number> {
    let p = this.packSizes.get(packId);
    if (!p) {
      p = this.repo.storage.stat(packKey(packId)).then((o) => o.size);
      p.catch(() => this.packSizes.delete(packId));
      this.packSizes.set(packId, p);
    }
    return p;
  }
}
