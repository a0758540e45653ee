/**
 * The port through which the repository keeps decoded immutable objects locally: snapshot
 * objects by snapshot id, tree blobs by blob id. Both names are hashes of the content, so
 * a cached entry is never stale; which snapshots exist is always learnt by listing
 * `snapshots/`. The catalog implements it (SQLite); without one, every snapshot and tree
 * is read from storage.
 *
 * Entries are plaintext as it was verified when read from storage (or produced by this
 * machine's backup); the repository decodes and validates them again on the way out.
 * @module
 */
import type { BlobId, SnapshotId } from '../domain/ids.js';

export interface ObjectCache {
  snapshot(id: SnapshotId): Uint8Array | undefined;
  putSnapshot(id: SnapshotId, plaintext: Uint8Array): void;
  tree(id: BlobId): Uint8Array | undefined;
  putTree(id: BlobId, plaintext: Uint8Array): void;
}
