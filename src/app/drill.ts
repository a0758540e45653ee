/**
 * `coffre drill` and the agent's scheduled drills: open the repository read-only, run the
 * drill, hand the report to whoever records it (the catalog, for `status`), return it.
 * @module
 */
import type { DrillRecord } from '../catalog/drills.js';
import { describeError } from '../domain/errors.js';
import { runDrill, type DrillEvents, type DrillOptions, type DrillReport } from '../drill/drill.js';
import type { Repository } from '../repository/repository.js';
import { openCatalog, resolveStateDir } from './local-state.js';
import type { AuditSpec } from './audit.js';
import { openRepository, withRepository, type RepoOptions } from './repo.js';

export type { DrillReport } from '../drill/drill.js';

export interface DrillRequest extends DrillOptions {
  /** Called with the finished report, passed or failed (e.g. to record it in the catalog). */
  readonly onReport?: (report: DrillReport) => void | Promise<void>;
  /** Also record the report in this repository's catalog in the state directory (for `status`). */
  readonly record?: boolean;
  readonly events?: DrillEvents & { warning?(message: string): void };
}

/** A drill's repository: its storage refuses every write. */
export function openDrillRepository(opts: RepoOptions): Promise<Repository> {
  return openRepository({ ...opts, readOnly: true });
}

/** Runs a drill. A failed `onReport` is a warning: the drill's result stands. */
export async function drill(opts: RepoOptions, req: DrillRequest = {}): Promise<DrillReport> {
  const audit: AuditSpec<DrillReport> = {
    action: 'drill',
    what: { detail: req.mode?.kind === 'full' ? 'full' : 'sample' },
    after: (r) => ({
      snapshot: r.snapshot.id,
      counts: { files: r.verified.files, bytes: r.verified.bytes, mismatches: r.mismatches },
      result: r.result === 'ok' ? 'ok' : 'failed',
    }),
  };
  return withRepository({ ...opts, readOnly: true, audit }, async (repo) => {
    const report = await runDrill(repo, req);
    try {
      if (req.record) recordDrill(opts.stateDir, repo.config.id, report, req.events?.warning);
      await req.onReport?.(report);
    } catch (e) {
      req.events?.warning?.(`the drill result could not be recorded: ${describeError(e)}`);
    }
    return report;
  });
}

/**
 * Adds a drill's result to the repository's catalog in the state directory (created if
 * need be: a writer later completes it from the repository). False when the state
 * directory cannot be used (`notice` says why).
 */
export function recordDrill(stateDir: string | undefined, repositoryId: string, report: DrillReport, notice?: (m: string) => void): boolean {
  const catalog = openCatalog(resolveStateDir(stateDir), repositoryId, notice);
  if (!catalog) return false;
  try {
    catalog.drills.add(drillRecord(report));
    return true;
  } finally {
    catalog.close();
  }
}

/** A drill report as a row of the catalog's drill_runs table. */
export type DrillRecordInput = Omit<DrillRecord, 'id'>;

export function drillRecord(r: DrillReport): DrillRecordInput {
  return {
    started: Date.parse(r.started),
    finished: Date.parse(r.finished),
    snapshotId: r.snapshot.id,
    result: r.result,
    files: r.verified.files,
    bytes: r.verified.bytes,
    mismatches: r.mismatches + r.repositoryProblems.length,
    durationMs: r.timings.durationMs,
    rtoEstimateMs: r.rtoEstimateMs > 0 ? r.rtoEstimateMs : null,
    reportJson: JSON.stringify(r),
  };
}
