/**
 * The blob index: for every stored blob, the pack that holds it and where. The repository
 * fills it from index objects; a backup consults it to deduplicate. This file defines the
 * port and an in-memory implementation; the catalog provides one on disk (SQLite) so that
 * memory stays flat with millions of blobs.
 * @module
 */
import type { BlobId, IndexId, PackId } from '../domain/ids.js';
import type { IndexedPack } from './index-file.js';
import type { PackEntry } from './pack.js';

export interface IndexedBlob extends PackEntry {
  readonly packId: PackId;
}

export interface BlobIndex {
  lookup(id: BlobId): IndexedBlob | undefined;
  /** Whether the blob is indexed; cheaper than `lookup` where an index on disk can make it so. */
  has?(id: BlobId): boolean;
  /** Merges the packs listed by one index object (`from`), or by the running backup (undefined). */
  addPacks(packs: readonly IndexedPack[], from?: IndexId): void;
  /** The index objects merged so far, so that only new ones are fetched. */
  mergedIndexes(): ReadonlySet<IndexId>;
  /** Forgets everything (the storage's index objects changed in a way merging cannot follow). */
  clear(): void;
  blobCount(): number;
  /**
   * Runs `merge`, which adds many index objects at once (a catalog rebuilt, a new state
   * directory), with the room that takes; an index on disk uses a larger cache meanwhile.
   */
  bulk?(merge: () => void): void;
}

export class MemoryBlobIndex implements BlobIndex {
  private readonly blobs = new Map<string, IndexedBlob>();
  private readonly merged = new Set<IndexId>();

  lookup(id: BlobId): IndexedBlob | undefined {
    return this.blobs.get(id);
  }

  addPacks(packs: readonly IndexedPack[], from?: IndexId): void {
    for (const p of packs) for (const b of p.blobs) if (!this.blobs.has(b.id)) this.blobs.set(b.id, { ...b, packId: p.packId });
    if (from) this.merged.add(from);
  }

  mergedIndexes(): ReadonlySet<IndexId> {
    return this.merged;
  }

  clear(): void {
    this.blobs.clear();
    this.merged.clear();
  }

  blobCount(): number {
    return this.blobs.size;
  }
}

/**
 * The index readers use: the merged index objects (`primary`), and underneath, the packs a
 * prune plan has hidden (their index objects superseded, their deletion pending). Reads
 * (`lookup`) see both, so a snapshot that a backup wrote while a prune was planning still
 * restores; deduplication (`has`) sees only `primary`, so no new snapshot comes to depend
 * on a pack that is about to be deleted (docs/FORMAT.md §11).
 */
export class LayeredBlobIndex implements BlobIndex {
  private hidden = new Map<string, IndexedBlob>();

  constructor(readonly primary: BlobIndex) {}

  lookup(id: BlobId): IndexedBlob | undefined {
    return this.primary.lookup(id) ?? this.hidden.get(id);
  }

  has(id: BlobId): boolean {
    return this.primary.has ? this.primary.has(id) : this.primary.lookup(id) !== undefined;
  }

  addPacks(packs: readonly IndexedPack[], from?: IndexId): void {
    this.primary.addPacks(packs, from);
  }

  mergedIndexes(): ReadonlySet<IndexId> {
    return this.primary.mergedIndexes();
  }

  clear(): void {
    this.primary.clear();
    this.hidden.clear();
  }

  blobCount(): number {
    return this.primary.blobCount();
  }

  bulk(merge: () => void): void {
    if (this.primary.bulk) this.primary.bulk(merge);
    else merge();
  }

  /** Replaces the hidden layer (the packs of index objects pending deletion in prune plans). */
  setHidden(packs: Iterable<IndexedPack>): void {
    this.hidden = new Map();
    for (const p of packs) for (const b of p.blobs) if (!this.hidden.has(b.id)) this.hidden.set(b.id, { ...b, packId: p.packId });
  }
}

/** Whether an index lives only in this process's memory (a failed backup then drops it). */
export function isMemoryIndex(index: BlobIndex): boolean {
  return index instanceof MemoryBlobIndex || (index instanceof LayeredBlobIndex && index.primary instanceof MemoryBlobIndex);
}
