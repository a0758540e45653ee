/**
 * `coffre backup`: one backup run, with the summary admins and scripts read.
 * @module
 */
import { backup, type BackupOptions, type BackupResult } from '../archiver/archiver.js';
import type { Repository } from '../repository/repository.js';

export interface BackupSummary {
  readonly snapshotId: string;
  readonly time: string;
  readonly paths: readonly string[];
  readonly filesNew: number;
  readonly filesChanged: number;
  readonly filesUnmodified: number;
  readonly dirs: number;
  readonly totalFiles: number;
  readonly totalBytes: number;
  readonly bytesRead: number;
  readonly bytesAdded: number;
  readonly durationMs: number;
  readonly failures: readonly string[];
  readonly warnings: number;
}

export async function runBackup(repo: Repository, opts: BackupOptions): Promise<BackupSummary & { result: BackupResult }> {
  const result = await backup(repo, opts);
  const s = result.summary;
  return {
    snapshotId: result.snapshotId,
    time: result.snapshot.time,
    paths: result.snapshot.paths,
    filesNew: s.filesNew,
    filesChanged: s.filesChanged,
    filesUnmodified: s.filesUnmodified,
    dirs: s.dirs,
    totalFiles: s.totalFiles,
    totalBytes: s.totalBytes,
    bytesRead: s.bytesRead,
    bytesAdded: s.bytesAdded,
    durationMs: s.durationMs,
    failures: result.failures,
    warnings: result.warnings,
    result,
  };
}
