/**
 * Snapshot objects: the commit point of a backup, written last, after every pack, index
 * and tree it references is stored (DESIGN invariant 1). Sealed JSON, named by the
 * SHA-256 of the sealed bytes.
 * @module
 */
import { IntegrityError } from '../domain/errors.js';
import { isHexId, type BlobId, type SnapshotId } from '../domain/ids.js';

export interface SnapshotSummary {
  readonly filesNew: number;
  readonly filesChanged: number;
  readonly filesUnmodified: number;
  readonly dirs: number;
  readonly bytesRead: number;
  readonly bytesAdded: number;
  readonly totalFiles: number;
  readonly totalBytes: number;
  readonly durationMs: number;
}

export interface Snapshot {
  readonly version: 1;
  /** ISO 8601, UTC */
  readonly time: string;
  readonly host: string;
  readonly username: string;
  /** absolute paths as backed up; restore recreates them under the target */
  readonly paths: readonly string[];
  readonly tags: readonly string[];
  /** root tree blob */
  readonly tree: BlobId;
  readonly parent: SnapshotId | null;
  readonly program: string;
  readonly summary: SnapshotSummary | null;
  /**
   * The mass-change verdict against the parent (added in 0.2, FORMAT §9.1; absent: not
   * judged). Readers that do not know it ignore it; a suspect snapshot also carries the
   * tag SUSPECT_TAG, which they do show.
   */
  readonly anomaly?: SnapshotAnomaly;
}

export interface SnapshotAnomaly {
  readonly suspect: boolean;
  /** one line per rule that tripped; never file names */
  readonly reasons: readonly string[];
  /** counts the verdict was made from (src/anomaly/measure.ts) */
  readonly measures: Readonly<Record<string, number | string | null>>;
}

/** The tag a suspect snapshot carries, for readers that do not know the `anomaly` field. */
export const SUSPECT_TAG = 'suspect';

export function isSuspect(s: Snapshot): boolean {
  return s.anomaly?.suspect === true;
}

export function encodeSnapshot(s: Snapshot): Buffer {
  return Buffer.from(JSON.stringify(s), 'utf8');
}

export function decodeSnapshot(bytes: Uint8Array, objectKey: string): Snapshot {
  let s: Snapshot;
  try {
    s = JSON.parse(Buffer.from(bytes).toString('utf8')) as Snapshot;
  } catch {
    throw new IntegrityError(objectKey, `${objectKey}: snapshot is not JSON`);
  }
  if (s.version !== 1 || typeof s.tree !== 'string' || !isHexId(s.tree) || !Array.isArray(s.paths)) {
    throw new IntegrityError(objectKey, `${objectKey}: malformed snapshot`);
  }
  return s;
}
