/**
 * What the health model judges: plain data gathered from the catalog (run history, drill
 * results, dirty set, the repository mirror), the agent (live, or from its status file)
 * and the config. All times are ms since the epoch; `now` is given, never read, so that
 * every rule can be tested with any clock.
 *
 * Gathering these is src/app/status-inputs.ts's job; nothing here touches a file.
 * @module
 */

import type { DrillRecord } from '../catalog/drills.js';
import type { RecordedFacts } from '../catalog/reader.js';

export type { RunResult } from '../catalog/runs.js';
import type { RunResult } from '../catalog/runs.js';

export interface BackupRun {
  readonly started: number;
  readonly finished: number | null;
  readonly result: RunResult;
  readonly snapshotId: string | null;
  /** one line, as recorded (may name files: redact before showing it) */
  readonly error: string | null;
  readonly filesNew?: number;
  readonly filesChanged?: number;
  readonly filesUnmodified?: number;
  readonly bytesRead?: number;
  readonly bytesAdded?: number;
}

export interface CheckRun {
  readonly started: number;
  readonly finished: number | null;
  readonly result: RunResult;
  readonly error: string | null;
  /** the check ran and found damage (as opposed to: it could not run) */
  readonly damage: boolean;
}

export type DrillResult = Omit<DrillRecord, 'id' | 'reportJson'> & {
  /** why a drill stopped before the end, when it did */
  readonly error: string | null;
  /** it found damage (mismatches, objects failing authentication), as opposed to: it could not run to the end */
  readonly damage: boolean;
};

/** What the last contact with the repository learnt (recorded by writers in the catalog). */
export type RepositoryFacts = RecordedFacts;

export interface RepositoryView {
  readonly snapshots: number;
  readonly packs: number;
  /** sum of pack sizes: what the storage holds for data and trees */
  readonly storedBytes: number;
  /** sum of the snapshots' file sizes: what restoring every snapshot would write */
  readonly logicalBytes: number;
  readonly latestSnapshot: { readonly id: string; readonly time: number; readonly paths: readonly string[] } | null;
  readonly facts: RepositoryFacts | null;
}

export interface CatalogView {
  readonly available: true;
  readonly file: string;
  /** the newest backup run that ended, whatever its result */
  readonly lastBackup: BackupRun | null;
  /** the newest backup run that saved a snapshot (ok or incomplete) */
  readonly lastBackupSuccess: BackupRun | null;
  /** the newest failed backup run, however old */
  readonly lastBackupFailure: BackupRun | null;
  /** failed backup runs since the last success */
  readonly backupFailuresInARow: number;
  /** the oldest failure of that streak */
  readonly failingSince: number | null;
  /** a backup the run history says is in progress */
  readonly backupRunning: { readonly started: number; readonly pid: number; readonly host: string } | null;
  /** when this machine's run history begins: the reference for "nothing ran since" */
  readonly firstRun: number | null;
  readonly lastCheck: CheckRun | null;
  readonly lastCheckSuccess: CheckRun | null;
  readonly lastDrill: DrillResult | null;
  readonly lastDrillSuccess: DrillResult | null;
  readonly pending: { readonly count: number; readonly oldest: number | null };
  readonly repository: RepositoryView;
  /** suspect snapshots not acknowledged yet (since `at`), with the reasons, or null */
  readonly anomaly: { readonly at: number; readonly message: string } | null;
}

export interface CatalogUnavailable {
  readonly available: false;
  /** one line for the admin: why the state could not be read, and what to do */
  readonly reason: string;
  /** true: nothing is broken, there is just nothing yet (no backup ever ran here) */
  readonly fresh: boolean;
}

export type JobOutcome = 'ok' | 'incomplete' | 'skipped' | 'problem' | 'failed' | 'interrupted';

export interface ErrorInfo {
  readonly code: string;
  readonly kind?: string;
  readonly message: string;
}

export interface JobLive {
  readonly lastRun: { readonly finished: number; readonly outcome: JobOutcome; readonly error?: ErrorInfo } | null;
  readonly nextRun: number | null;
  readonly retryAt: number | null;
  readonly consecutiveFailures: number;
}

export type AgentJob = 'backup' | 'rescan' | 'check' | 'drill' | 'retention';

export interface AgentView {
  /** the agent holds this state directory right now (and works for this repository) */
  readonly running: boolean;
  readonly pid: number | null;
  readonly startedAt: number | null;
  /** the phase it last wrote; 'stopped' means it stopped cleanly */
  readonly phase: string | null;
  /** when it last wrote its status (null: it never did) */
  readonly updatedAt: number | null;
  readonly runningJob: { readonly job: AgentJob; readonly since: number } | null;
  readonly jobs: Partial<Readonly<Record<AgentJob, JobLive>>>;
  readonly watcher: { readonly health: string; readonly message: string | null } | null;
  /** its own count of changed paths (fresher than the catalog's, which it writes in batches) */
  readonly pending: number | null;
  /** a mass change or other anomaly the agent flagged, if any */
  readonly anomaly: { readonly at: number; readonly message: string } | null;
}

export interface Schedule {
  readonly expression: string;
  readonly nextRun: number | null;
  /** the longest gap between two runs of this schedule */
  readonly intervalMs: number;
}

export interface HealthInputs {
  readonly now: number;
  readonly host: string;
  readonly repository: { readonly location: string | null; readonly id: string | null };
  /** the recovery-point objective */
  readonly rpoMs: number;
  /** the schedules from the config: null = not scheduled; undefined = unknown (no config given) */
  readonly schedules: { readonly backup?: Schedule | null; readonly check?: Schedule | null; readonly drill?: Schedule | null };
  /** a config was given: the agent is meant to be running */
  readonly agentExpected: boolean;
  /**
   * source roots, with the changed paths waiting below each (null: unknown), and whether
   * the last successful backup saved it (null: unknown; false: added to the config since)
   */
  readonly sources: readonly { readonly path: string; readonly pending: number | null; readonly inLastBackup: boolean | null }[];
  readonly catalog: CatalogView | CatalogUnavailable;
  readonly agent: AgentView;
  /** paths whose names may appear in messages: the source roots, the state directory, a local repository */
  readonly safePaths: readonly string[];
}
