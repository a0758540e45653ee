/**
 * `coffre backup`: one backup run, with the summary admins and scripts read.
 * @module
 */
import { withTightHeap } from '../util/tight-heap.js';
import { hostname } from 'node:os';
import { backup, BackupStoppedError, type BackupOptions, type BackupResult } from '../archiver/archiver.js';
import type { AnomalyThresholds } from '../anomaly/judge.js';
import { describeError } from '../domain/errors.js';
import { isSuspect } from '../repository/snapshot.js';
import { anomalyAnnotator, recordVerdict, refreshRecordedAnomaly } from './anomaly.js';
import type { Repository } from '../repository/repository.js';
import type { LocalState } from './local-state.js';
import { extendLocksIfDue } from './lock-extension.js';
import { tryRecordRepositoryFacts } from './repo-facts.js';
import { testPauseBeforeSnapshot } from './test-hooks.js';

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
  /** the mass-change check flagged this snapshot (src/anomaly); it was saved all the same */
  readonly suspect: boolean;
  /** why, when suspect */
  readonly anomalyReasons: readonly string[];
}

export interface RunBackupOptions extends BackupOptions {
  /** mass-change thresholds (agent config `anomaly`); default: DEFAULT_THRESHOLDS */
  readonly anomaly?: AnomalyThresholds;
}

/**
 * With local state, the catalog serves as file-change cache (unchanged files are not
 * read), the run is recorded in the run history, and cache rows of paths that no longer
 * exist are pruned after the run.
 */
export async function runBackup(repo: Repository, opts: RunBackupOptions, local?: LocalState): Promise<BackupSummary & { result: BackupResult }> {
  const catalog = local?.catalog;
  const run = catalog?.runs.start('backup', { pid: process.pid, host: hostname() });
  if (catalog && run !== undefined) catalog.files.beginRun(run);
  let result: BackupResult;
  try {
    result = await withTightHeap(() => backup(repo, {
      ...opts,
      fileCache: opts.fileCache ?? catalog?.files,
      annotate: anomalyAnnotator(repo, opts.anomaly, local?.notice),
      session: catalog
        ? {
            ...opts.session,
            onPackUploading: (p) => {
              catalog.index.journalUpload(p);
              opts.session?.onPackUploading?.(p);
            },
          }
        : opts.session,
      beforeSnapshot: async () => {
        // Everything the cache names is stored now: commit it before the commit point.
        catalog?.files.flush();
        await opts.beforeSnapshot?.();
        await testPauseBeforeSnapshot();
      },
    }));
  } catch (e) {
    if (catalog && run !== undefined) {
      // Stopped on request (the agent's shutdown): no snapshot, and the next run resumes.
      catalog.runs.finish(run, { result: e instanceof BackupStoppedError ? 'interrupted' : 'failed', error: describeError(e) });
    }
    throw e;
  }
  const s = result.summary;
  if (catalog && run !== undefined) {
    catalog.files.pruneUnseen(result.snapshot.paths);
    recordVerdict(catalog, result.snapshotId, result.snapshot);
    catalog.runs.finish(run, {
      result: result.failures.length ? 'incomplete' : 'ok',
      snapshotId: result.snapshotId,
      counts: { filesNew: s.filesNew, filesChanged: s.filesChanged, filesUnmodified: s.filesUnmodified, bytesRead: s.bytesRead, bytesAdded: s.bytesAdded },
    });
    // Fresh sizes, key count and Object Lock for `coffre status`, which never opens the repository.
    await tryRecordRepositoryFacts(repo, catalog);
    // Suspect snapshots acknowledged from another machine stop making status CRITICAL here.
    await refreshRecordedAnomaly(repo, catalog).catch((e: unknown) => local?.notice?.(`could not read anomaly acknowledgements: ${describeError(e)}`));
    // Object Lock: live objects keep their retention (DESIGN invariant 10). A failure here does
    // not undo the snapshot; it is said, and the next backup tries again.
    await extendLocksIfDue(repo, catalog).catch((e: unknown) =>
      local?.notice?.(`snapshot saved, but Object Lock retention could not be extended (tried again after the next backup): ${describeError(e)}`),
    );
  }
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
    suspect: isSuspect(result.snapshot),
    anomalyReasons: result.snapshot.anomaly?.reasons ?? [],
    result,
  };
}
