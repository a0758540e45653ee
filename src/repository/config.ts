/**
 * The repository config: fixed at `init`, never rewritten (docs/FORMAT.md, "config").
 * Sealed in an envelope under the data key, because the chunker seed is secret.
 * @module
 */
import { FormatError, IntegrityError } from '../domain/errors.js';
import type { RetentionMode } from '../storage/storage.js';

export interface ChunkerParams {
  readonly algorithm: 'fastcdc-gear32';
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
  /** hex, 32 bytes: keys the gear table (see src/chunker/gear.ts) */
  readonly seed: string;
}

export interface ObjectLockPolicy {
  readonly mode: RetentionMode;
  readonly days: number;
}

export interface RepoConfig {
  readonly version: 1;
  /** hex, 32 random bytes; every key file names the repository it belongs to */
  readonly id: string;
  readonly created: string;
  readonly chunker: ChunkerParams;
  readonly compression: { readonly algorithm: 'zstd'; readonly level: number };
  /** A pack is closed once its blobs reach this many bytes. */
  readonly packSize: number;
  readonly objectLock: ObjectLockPolicy | null;
}

export const DEFAULT_CHUNKER = { minSize: 512 * 1024, avgSize: 1024 * 1024, maxSize: 8 * 1024 * 1024 } as const;
export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;
/**
 * zstd level 2 for new repositories. Measured on the bench's small dataset (CSV text and random
 * data, same build, levels interleaved, 4 runs each): a first backup used 2.8 s of CPU at level 2
 * against 3.5 s at level 3, for a repository 0.8 % larger (level 1: 2.5 s, but 3 % larger).
 * Each repository keeps the level it was created with (config.compression.level).
 */
export const DEFAULT_COMPRESSION_LEVEL = 2;

export function encodeConfig(c: RepoConfig): Buffer {
  return Buffer.from(JSON.stringify(c), 'utf8');
}

export function decodeConfig(bytes: Uint8Array, objectKey: string): RepoConfig {
  let c: RepoConfig;
  try {
    c = JSON.parse(Buffer.from(bytes).toString('utf8')) as RepoConfig;
  } catch {
    throw new IntegrityError(objectKey, `${objectKey}: not valid JSON`);
  }
  if (c.version !== 1) throw new FormatError(`repository config version ${String(c.version)} is not supported`);
  if (c.chunker?.algorithm !== 'fastcdc-gear32') {
    throw new FormatError(`chunker ${String(c.chunker?.algorithm)} is not supported by this version of coffre`);
  }
  if (c.compression?.algorithm !== 'zstd') throw new FormatError(`compression ${String(c.compression?.algorithm)} is not supported`);
  return c;
}
