/**
 * The port through which a backup skips reading files that have not changed. The catalog
 * implements it from the previous runs' metadata (path, size, mtime, ctime, inode,
 * device); without one, every file is read and deduplication alone avoids re-uploading.
 * @module
 */
import type { BlobId } from '../domain/ids.js';

export interface FileIdentity {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
}

export interface FileChangeCache {
  /** The content ids recorded for this path if its identity is unchanged. */
  lookup(path: string, id: FileIdentity): readonly BlobId[] | undefined;
  record(path: string, id: FileIdentity, content: readonly BlobId[]): void;
}
