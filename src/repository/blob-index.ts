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
