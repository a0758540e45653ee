/**
 * Writing blobs: deduplicate against the index, seal in worker threads, gather into packs
 * (data and trees apart), upload packs a few at a time, and record them in index objects
 * once they are stored. File content (chunks of large files, small files) is sealed and
 * packed by the worker threads themselves, in pack files on disk (pack-spool.ts): the session
 * only claims their ids and stores the packs the workers hand over (`adoptPack`). Blobs given
 * to `saveBlob` (trees) are packed here, in memory. Everything is bounded: a caller of
 * `saveBlob` or a worker asking about new ids waits while too many blobs are being sealed or
 * too many packs are waiting for upload, so memory stays flat whatever the size of the input.
 *
 * Write order (DESIGN invariants 1 and 5): a pack is listed in an index object only after
 * it is stored; an index object is written every `indexEvery` packs or INDEX_MAX_BLOBS blobs,
 * and at `flush`, so a killed backup leaves at most a few unindexed packs, which the next run
 * can adopt.
 * @module
 */
import { rm } from 'node:fs/promises';
import type { BlobId, IndexId, PackId } from '../domain/ids.js';
import { isFileBody, type Body } from '../storage/storage.js';
import { Semaphore } from '../util/semaphore.js';
import type { BlobType } from './blob-codec.js';
import type { IndexedPack } from './index-file.js';
import { PackBuilder, packIsFull, type PackEntry } from './pack.js';
import type { SpooledPack } from './pack-spool.js';
import type { Repository } from './repository.js';
/** Plaintext bytes allowed in the sealing stage at once. */
const SEAL_BUDGET = 16 * 1024 * 1024;
const MAX_SEALING = 256;

/**
 * An index object is also written once this many blobs wait for one, however few packs hold
 * them. A backup of many small files fills each pack with tens of thousands of blobs, so
 * `indexEvery` packs were never reached: the entries of 200,000 files waited in memory (the
 * main heap grew to 75 MiB instead of 41) for one index object listing them all, built at the
 * very end. restic flushes its index at 50,000 blobs too.
 */
const INDEX_MAX_BLOBS = 50_000;

export interface WriteSessionOptions {
  /** Packs uploaded in parallel (default 2: each holds a pack, ~16 MiB, in memory). */
  readonly uploadConcurrency?: number;
  /** Write an index object after this many stored packs (default 16). */
  readonly indexEvery?: number;
  /** …or once this many blobs wait for one (default INDEX_MAX_BLOBS). */
  readonly indexMaxBlobs?: number;
  /** Called once a pack is durably stored (the catalog records it for crash resume). */
  readonly onPackStored?: (pack: IndexedPack) => void;
  /**
   * Called just before a pack's upload starts (the catalog journals it: if the process is
   * killed after the pack is stored but before `onPackStored`, the next run still finds it).
   */
  readonly onPackUploading?: (pack: IndexedPack) => void;
}

export interface WriteStats {
  blobsNew: number;
  /** plaintext bytes of new blobs */
  bytesNew: number;
  /** bytes of the packs uploaded (sealed, compressed, padded) */
  bytesStored: number;
  packsStored: number;
  indexesStored: number;
}

export class WriteSession {
  readonly stats: WriteStats = { blobsNew: 0, bytesNew: 0, bytesStored: 0, packsStored: 0, indexesStored: 0 };
  /** Blobs accepted by this session but not yet in a stored pack. */
  private readonly pending = new Set<BlobId>();
  /** Blobs this session stored (only tracked while deduplication is suspended). */
  private readonly storedHere = new Set<BlobId>();
  private readonly packers: Record<BlobType, PackBuilder> = { data: new PackBuilder(), tree: new PackBuilder() };
  private readonly sealing = new Set<Promise<void>>();
  private sealingBytes = 0;
  /** Packs being stored or waiting for an upload slot. */
  private readonly uploads = new Set<Promise<void>>();
  private readonly uploadSlots: Semaphore;
  /** Callers of `waitForRoom` waiting for a sealing task or an upload to end. */
  private roomWaiters: (() => void)[] = [];
  private unindexed: IndexedPack[] = [];
  private readonly indexIds: IndexId[] = [];
  private failure: unknown;
  private readonly uploadConcurrency: number;
  private readonly indexEvery: number;
  private readonly indexMaxBlobs: number;

  constructor(
    private readonly repo: Repository,
    private readonly opts: WriteSessionOptions = {},
  ) {
    this.uploadConcurrency = opts.uploadConcurrency ?? 2;
    this.uploadSlots = new Semaphore(this.uploadConcurrency);
    this.indexEvery = opts.indexEvery ?? 16;
    this.indexMaxBlobs = opts.indexMaxBlobs ?? INDEX_MAX_BLOBS;
  }

  /** Where worker threads write the packs they fill (the repository knows it once for all sessions). */
  spoolDir(): Promise<string> {
    return this.repo.spoolDir();
  }

  /** Takes a pack a worker thread filled with blobs it claimed: it is stored like the others. */
  adoptPack(pack: SpooledPack): void {
    for (const e of pack.entries) this.stats.bytesNew += e.rawLength;
    this.upload(pack.id, pack.file, pack.entries);
  }

  /** True if the blob is stored or already on its way. */
  knows(id: BlobId): boolean {
    if (this.repo.dedupSuspended) return this.pending.has(id) || this.storedHere.has(id);
    const index = this.repo.index;
    return this.pending.has(id) || (index.has ? index.has(id) : index.lookup(id) !== undefined);
  }

  /**
   * Reserves a blob id for this session: true if the blob is new, and the caller must then
   * store it (a worker thread seals it into its pack, handed over through `adoptPack`);
   * false if it is known.
   */
  claim(id: BlobId): boolean {
    this.throwIfFailed();
    if (this.knows(id)) return false;
    this.pending.add(id);
    this.stats.blobsNew++;
    return true;
  }

  /** Adds a blob claimed with `claim` and sealed (by `saveBlob`) to the pack built here. */
  private addSealed(type: BlobType, id: BlobId, sealed: Buffer, rawLength: number): void {
    this.stats.bytesNew += rawLength;
    this.addToPack(type, id, sealed, rawLength);
  }

  /**
   * Accepts a blob sealed here; returns whether it was new. Resolves when the pipeline has
   * room for more, not when the blob is stored — `flush` waits for that. `raw` may be moved
   * to a worker thread: do not use it afterwards.
   */
  async saveBlob(type: BlobType, id: BlobId, raw: Uint8Array): Promise<boolean> {
    if (!this.claim(id)) return false;
    const rawLength = raw.length;
    this.sealingBytes += rawLength;
    const task = this.repo.codec
      .seal(type, id, raw)
      .then((sealed) => this.addSealed(type, id, sealed, rawLength))
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        this.sealing.delete(task);
        this.sealingBytes -= rawLength;
        this.wakeRoomWaiters();
      });
    this.sealing.add(task);
    await this.waitForRoom();
    return true;
  }

  /**
   * Waits while too much is in flight: many small blobs may be sealing (a worker round trip
   * costs more than sealing a small file), but never more than SEAL_BUDGET bytes, and never
   * more packs waiting for upload than the upload concurrency. This bounds memory.
   */
  async waitForRoom(): Promise<void> {
    while (this.sealingBytes > SEAL_BUDGET || this.sealing.size >= MAX_SEALING || this.uploads.size >= this.uploadConcurrency) {
      // Not Promise.race over the tasks in flight: with up to 256 of them, each small file's
      // call attached a reaction to every one, and every race left one on each pending upload
      // until that upload ended. A task that ends wakes the waiters instead.
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      this.throwIfFailed();
    }
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Stores everything accepted so far, then the index objects for it. */
  async flush(): Promise<readonly IndexId[]> {
    while (this.sealing.size > 0) await Promise.all([...this.sealing]);
    this.throwIfFailed();
    for (const pack of await this.repo.codec.finishPacks()) this.adoptPack(pack);
    for (const type of ['data', 'tree'] as const) if (this.packers[type].count > 0) this.startUpload(type);
    while (this.uploads.size > 0) await Promise.all([...this.uploads]);
    this.throwIfFailed();
    await this.writeIndex();
    return this.indexIds;
  }

  /**
   * After a failure: waits for the sealing and uploads already under way (so none of them
   * lands in a later session, where its blobs would look indexed), then names in an index
   * object the packs that were stored, if the storage still allows. Never throws. Returns
   * whether every stored pack is now named by an index object.
   */
  async abort(): Promise<boolean> {
    await Promise.allSettled([...this.sealing]);
    await this.repo.codec.discardPacks().catch(() => undefined);
    await Promise.allSettled([...this.uploads]);
    this.failure ??= new Error('write session aborted');
    try {
      await this.writeIndex();
      return true;
    } catch {
      return false;
    }
  }

  private addToPack(type: BlobType, id: BlobId, sealed: Buffer, rawLength: number): void {
    const packer = this.packers[type];
    packer.add(type, id, sealed, rawLength);
    if (packIsFull(packer.size, packer.count, this.repo.config.packSize, this.repo.packSealing())) this.startUpload(type);
  }

  private startUpload(type: BlobType): void {
    const packer = this.packers[type];
    this.packers[type] = new PackBuilder();
    const { id, bytes, entries } = this.repo.finishPack(packer);
    this.upload(id, bytes, entries);
  }

  /** Journals the pack, stores it when an upload slot is free, then indexes it. */
  private upload(packId: PackId, body: Body, entries: PackEntry[]): void {
    const pack: IndexedPack = { packId, size: isFileBody(body) ? body.size : body.length, blobs: entries };
    const dropFile = () => (isFileBody(body) ? rm(body.path, { force: true }).catch(() => undefined) : undefined);
    try {
      this.opts.onPackUploading?.(pack);
    } catch (e) {
      // The journal could not record it (disk full…): the pack is dropped, so the session
      // must fail, or a snapshot would name blobs that were never stored.
      this.fail(e);
      void dropFile();
      return;
    }
    const task = this.uploadSlots
      .run(async () => {
        this.throwIfFailed();
        await this.repo.savePack(packId, body);
      })
      .then(async () => {
        this.repo.index.addPacks([pack]);
        for (const b of entries) {
          this.pending.delete(b.id);
          if (this.repo.dedupSuspended) this.storedHere.add(b.id);
        }
        this.stats.packsStored++;
        this.stats.bytesStored += pack.size;
        this.opts.onPackStored?.(pack);
        this.unindexed.push(pack);
        // at most indexEvery packs to count
        const blobs = this.unindexed.reduce((n, p) => n + p.blobs.length, 0);
        if (this.unindexed.length >= this.indexEvery || blobs >= this.indexMaxBlobs) await this.writeIndex();
      })
      .catch((e: unknown) => this.fail(e))
      .finally(async () => {
        await dropFile();
        this.uploads.delete(task);
        this.wakeRoomWaiters();
      });
    this.uploads.add(task);
  }

  private async writeIndex(): Promise<void> {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    const id = await this.repo.saveIndex({ supersedes: [], packs });
    // Tell the blob index these packs are now named by an index object (a catalog then
    // drops them from its crash-resume journal and need not fetch this object again).
    this.repo.index.addPacks(packs, id);
    this.indexIds.push(id);
    this.stats.indexesStored++;
  }

  private fail(e: unknown): void {
    this.failure ??= e;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
