/**
 * Saves one file's content. Files of at least one minimum chunk go whole to a worker
 * thread, which chunks, names and seals them into its pack; smaller files are one chunk
 * each and travel to the workers in batches (small-file-batch.ts), so that the main thread
 * neither reads nor hashes file content.
 *
 * The source is only ever read (DESIGN invariant 4): a file that changes while it is read
 * (size, mtime, ctime or inode differ before and after) is read again, up to three times,
 * and then stored as read with a warning. The workers do that check.
 * @module
 */
import type { BigIntStats } from 'node:fs';
import type { BlobId } from '../domain/ids.js';
import type { WriteSession } from '../repository/write-session.js';
import type { CodecPool, FileConversation } from '../workers/codec.js';
import type { FileIdentity } from './file-cache.js';
import type { SmallFileBatcher } from './small-file-batch.js';

export interface SavedFile {
  readonly content: BlobId[];
  readonly size: number;
  readonly bytesRead: number;
  /** the identity seen when the read began (for the file-change cache) */
  readonly identity: FileIdentity;
  readonly changedWhileRead: boolean;
}

export interface FileSaverDeps {
  readonly session: WriteSession;
  readonly codec: CodecPool;
  readonly minChunk: number;
  readonly smallFiles: SmallFileBatcher;
}

export function identityOf(st: BigIntStats): FileIdentity {
  return { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev };
}

/** Saves a file whose lstat said `size`. */
export async function saveFile(path: string, size: bigint, deps: FileSaverDeps): Promise<SavedFile> {
  if (size < BigInt(deps.minChunk)) {
    const r = await deps.smallFiles.save(path, Number(size));
    if (r.kind === 'saved') return r;
    // A worker's error on this file, rebuilt with its code (ENOENT: deleted since the walk…).
    if (r.kind === 'error') throw Object.assign(new Error(r.message), r.code === undefined ? {} : { code: r.code });
    // Replaced by a large file since the walk: chunk it like one, never as a single blob.
  }
  return deps.codec.chunkFile(path, await deps.session.spoolDir(), conversation(deps.session));
}

/** How a worker asks the session which blobs are new, and hands it the packs it filled. */
export function conversation(session: WriteSession): FileConversation {
  return {
    dedup: async (ids) => {
      await session.waitForRoom();
      return ids.map((id) => session.claim(id));
    },
    pack: (pack) => session.adoptPack(pack),
  };
}
