/**
 * Gathering the health model's inputs from local state only — the catalog (read-only) and
 * what the caller knows of the agent — so that `coffre status` answers in a fraction of a
 * second, without the passphrase, and also while the storage is down (which is exactly
 * when it matters). What only the repository knows comes from the facts its writers
 * recorded, with their age.
 * @module
 */
import { hostname } from 'node:os';
import * as path from 'node:path';
import { createTask } from 'node-cron';
import type { DrillRecord } from '../catalog/drills.js';
import { CHECK_DAMAGE_ERROR, type CatalogSnapshot, type RunRow } from '../catalog/reader.js';
import type { AgentConfig } from '../config/agent-config.js';
import { isS3Location } from '../storage/s3/location.js';
import type { AgentView, BackupRun, CatalogView, CheckRun, DrillResult, HealthInputs, Schedule } from '../status/inputs.js';
import { locateCatalog } from './status-catalog.js';

/** What to judge, from the agent's config or from flags. */
export interface StatusTarget {
  readonly stateDir: string;
  /** describeLocation() form; null: the only catalog of the state directory */
  readonly location: string | null;
  readonly rpoMs: number;
  readonly schedules: HealthInputs['schedules'];
  /** source roots; null: those of the latest snapshot */
  readonly sources: readonly string[] | null;
  readonly agentExpected: boolean;
}

/** The objective when only flags are given: the agent config's default. */
export const DEFAULT_RPO_MINUTES = 60;

export function targetFromConfig(c: AgentConfig, stateDir: string, location: string): StatusTarget {
  return {
    stateDir,
    location,
    rpoMs: c.rpoMinutes * 60_000,
    schedules: { backup: scheduleOf(c.schedule.backup), check: scheduleOf(c.schedule.check), drill: scheduleOf(c.schedule.drill) },
    sources: c.sources.map((s) => path.resolve(s.path)),
    agentExpected: true,
  };
}

export function targetFromFlags(stateDir: string, location: string | null, rpoMinutes = DEFAULT_RPO_MINUTES): StatusTarget {
  return { stateDir, location, rpoMs: rpoMinutes * 60_000, schedules: {}, sources: null, agentExpected: false };
}

/** A cron expression's next run and the longest gap between its next few runs; null if none. */
export function scheduleOf(expression: string | undefined): Schedule | null {
  if (expression === undefined) return null;
  const task = createTask(expression, () => undefined);
  try {
    const runs = task.getNextRuns(6).map((d) => d.getTime());
    let interval = 0;
    for (let k = 1; k < runs.length; k++) interval = Math.max(interval, runs[k]! - runs[k - 1]!);
    return { expression, nextRun: runs[0] ?? null, intervalMs: interval };
  } finally {
    void task.destroy();
  }
}

export function gatherHealthInputs(t: StatusTarget, agent: AgentView, now = Date.now()): HealthInputs {
  const located = locateCatalog(t.stateDir, t.location);
  let snap: CatalogSnapshot | undefined;
  let catalog: HealthInputs['catalog'];
  if ('reader' in located) {
    try {
      snap = located.reader.read(t.sources ?? []);
      catalog = toCatalogView(located.reader.file, snap);
    } catch (e) {
      catalog = { available: false, fresh: false, reason: `cannot read the catalog ${located.reader.file}: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      located.reader.close();
    }
  } else catalog = located;
  const roots = t.sources ?? snap?.latestSnapshot?.paths ?? [];
  const location = t.location ?? snap?.location ?? null;
  return {
    now,
    host: hostname(),
    repository: { location, id: snap?.repositoryId ?? null },
    rpoMs: t.rpoMs,
    schedules: t.schedules,
    agentExpected: t.agentExpected,
    sources: roots.map((p, k) => ({
      path: p,
      pending: t.sources && snap ? (snap.pending.under[k] ?? null) : null,
      inLastBackup: snap?.lastBackupPaths ? snap.lastBackupPaths.includes(p) : null,
    })),
    catalog,
    agent,
    // Object names in a local repository are random hex, and the state directory holds only catalogs.
    safePaths: [t.stateDir, ...(location && !isS3Location(location) ? [location] : [])],
  };
}

function toCatalogView(file: string, s: CatalogSnapshot): CatalogView {
  return {
    available: true,
    file,
    lastBackup: s.lastBackup ? backupRun(s.lastBackup) : null,
    lastBackupSuccess: s.lastBackupSuccess ? backupRun(s.lastBackupSuccess) : null,
    lastBackupFailure: s.lastBackupFailure ? backupRun(s.lastBackupFailure) : null,
    backupFailuresInARow: s.backupFailuresInARow,
    failingSince: s.failingSince,
    backupRunning: s.backupRunning ? { started: s.backupRunning.started, pid: s.backupRunning.pid, host: s.backupRunning.host } : null,
    firstRun: s.firstRun,
    lastCheck: s.lastCheck ? checkRun(s.lastCheck) : null,
    lastCheckSuccess: s.lastCheckSuccess ? checkRun(s.lastCheckSuccess) : null,
    lastDrill: s.lastDrill ? drillResult(s.lastDrill) : null,
    lastDrillSuccess: s.lastDrillSuccess ? drillResult(s.lastDrillSuccess) : null,
    pending: { count: s.pending.count, oldest: s.pending.oldest },
    anomaly: s.anomaly ? { at: s.anomaly.at, message: s.anomaly.message } : null,
    repository: {
      snapshots: s.snapshots,
      packs: s.packs,
      storedBytes: s.storedBytes,
      logicalBytes: s.logicalBytes,
      latestSnapshot: s.latestSnapshot ? { id: s.latestSnapshot.id, time: Date.parse(s.latestSnapshot.time), paths: s.latestSnapshot.paths } : null,
      facts: s.facts ?? null,
    },
  };
}

function backupRun(r: RunRow): BackupRun {
  const opt = <T>(v: T | null) => v ?? undefined;
  return {
    started: r.started,
    finished: r.finished,
    result: r.result,
    snapshotId: r.snapshotId,
    error: r.error,
    filesNew: opt(r.filesNew),
    filesChanged: opt(r.filesChanged),
    filesUnmodified: opt(r.filesUnmodified),
    bytesRead: opt(r.bytesRead),
    bytesAdded: opt(r.bytesAdded),
  };
}

function checkRun(r: RunRow): CheckRun {
  return { started: r.started, finished: r.finished, result: r.result, error: r.error, damage: r.result === 'failed' && r.error === CHECK_DAMAGE_ERROR };
}

/** A failed drill found damage unless an error other than an integrity one (exit 4) stopped it first. */
function drillResult(d: DrillRecord): DrillResult {
  let error: { message?: unknown; exitCode?: unknown } | undefined;
  if (d.result === 'failed' && d.reportJson) {
    try {
      error = (JSON.parse(d.reportJson) as { error?: { message?: unknown; exitCode?: unknown } }).error;
    } catch {
      error = undefined;
    }
  }
  const message = typeof error?.message === 'string' ? error.message : null;
  const damage = d.result === 'failed' && (d.mismatches > 0 || message === null || error?.exitCode === 4);
  return {
    started: d.started,
    finished: d.finished,
    snapshotId: d.snapshotId,
    result: d.result,
    files: d.files,
    bytes: d.bytes,
    mismatches: d.mismatches,
    durationMs: d.durationMs,
    rtoEstimateMs: d.rtoEstimateMs,
    error: message,
    damage,
  };
}
