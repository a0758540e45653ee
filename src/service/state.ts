/**
 * What the running agent knows about itself, for logs, the status file and (issue #7)
 * `coffre status` and the metrics endpoint: per job its last run, last success, next
 * scheduled time and pending retry; what is failing and since when; the watcher's health;
 * how many changed paths wait for a backup.
 *
 * The agent writes through the small mutator methods; everyone else reads `view()`, a
 * plain JSON-ready copy. Runs are also recorded in the catalog's run history, which
 * outlives the process; this object is the live part (next times, retries, the watcher).
 * @module
 */
import { EventEmitter } from 'node:events';

export type JobKind = 'backup' | 'rescan' | 'check' | 'drill' | 'retention';
export const JOB_KINDS: readonly JobKind[] = ['backup', 'rescan', 'check', 'drill', 'retention'];

/**
 * - ok / incomplete (backup: some items could not be read) — done;
 * - skipped — nothing to do (no change, and the last backup is within the recovery point);
 * - problem — ran and found something wrong (check: damage; drill: mismatches); not retried;
 * - failed — could not run (storage down, credentials refused, disk error…); retried with backoff;
 * - interrupted — stopped by shutdown.
 */
export type JobOutcome = 'ok' | 'incomplete' | 'skipped' | 'problem' | 'failed' | 'interrupted';

export interface ErrorInfo {
  readonly code: string;
  /** storage error kind: transient, permission, no-space, not-found… */
  readonly kind?: string;
  readonly message: string;
  readonly hint?: string;
}

export interface JobRun {
  /** schedule, start, retry, rpo, signal, reload… */
  readonly trigger: string;
  readonly started: string;
  readonly finished: string;
  readonly durationMs: number;
  readonly outcome: JobOutcome;
  /** counts and ids (never file names) */
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly error?: ErrorInfo;
}

export interface JobStatus {
  readonly schedule: string | null;
  readonly nextRun: string | null;
  readonly retryAt: string | null;
  readonly lastRun: JobRun | null;
  readonly lastSuccess: string | null;
  readonly consecutiveFailures: number;
}

export type WatcherHealth = 'off' | 'starting' | 'watching' | 'degraded' | 'failed';

export interface AgentStatusView {
  readonly pid: number;
  readonly startedAt: string;
  readonly configFile: string;
  readonly repository: string;
  readonly phase: 'starting' | 'running' | 'stopping' | 'stopped';
  readonly running: { readonly job: JobKind; readonly trigger: string; readonly since: string } | null;
  readonly queued: readonly JobKind[];
  /** set while any job keeps failing: the first failure of the current streak, and the latest error */
  readonly failing: { readonly since: string; readonly jobs: readonly JobKind[]; readonly error: ErrorInfo } | null;
  readonly lastError: { readonly at: string; readonly job: JobKind; readonly error: ErrorInfo } | null;
  readonly watcher: { readonly health: WatcherHealth; readonly message: string | null; readonly since: string };
  readonly dirty: { readonly count: number; readonly oldestSeen: string | null };
  readonly lastSnapshot: { readonly id: string; readonly at: string } | null;
  readonly jobs: Readonly<Record<JobKind, JobStatus>>;
}

type MutableJob = { -readonly [K in keyof JobStatus]: JobStatus[K] };

const iso = (t: number | Date) => new Date(t).toISOString();

export class AgentState extends EventEmitter<{ change: [] }> {
  private readonly startedAt = iso(Date.now());
  private phase: AgentStatusView['phase'] = 'starting';
  private running: AgentStatusView['running'] = null;
  private queued: readonly JobKind[] = [];
  private failingSince: string | null = null;
  private lastError: AgentStatusView['lastError'] = null;
  private watcher: { health: WatcherHealth; message: string | null; since: string } = { health: 'off', message: null, since: this.startedAt };
  private lastSnapshot: AgentStatusView['lastSnapshot'] = null;
  private readonly jobs = Object.fromEntries(
    JOB_KINDS.map((k) => [k, { schedule: null, nextRun: null, retryAt: null, lastRun: null, lastSuccess: null, consecutiveFailures: 0 } as MutableJob]),
  ) as Record<JobKind, MutableJob>;

  constructor(
    private readonly identity: { configFile: string; repository: string },
    private readonly dirty: () => { count: number; oldest: number | undefined } = () => ({ count: 0, oldest: undefined }),
  ) {
    super();
  }

  view(): AgentStatusView {
    const failingJobs = JOB_KINDS.filter((k) => this.jobs[k].consecutiveFailures > 0);
    const d = this.dirty();
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      configFile: this.identity.configFile,
      repository: this.identity.repository,
      phase: this.phase,
      running: this.running,
      queued: [...this.queued],
      failing: failingJobs.length && this.failingSince && this.lastError ? { since: this.failingSince, jobs: failingJobs, error: this.lastError.error } : null,
      lastError: this.lastError,
      watcher: { ...this.watcher },
      dirty: { count: d.count, oldestSeen: d.oldest === undefined ? null : iso(d.oldest) },
      lastSnapshot: this.lastSnapshot,
      jobs: Object.fromEntries(JOB_KINDS.map((k) => [k, { ...this.jobs[k] }])) as Record<JobKind, JobStatus>,
    };
  }

  /** The time of the last successful backup, if known (ms since the epoch). */
  lastBackupSuccess(): number | undefined {
    const t = this.jobs.backup.lastSuccess;
    return t === null ? undefined : Date.parse(t);
  }

  // ---- written by the agent ------------------------------------------------------------

  setPhase(phase: AgentStatusView['phase']): void {
    this.phase = phase;
    this.changed();
  }

  setSchedule(kind: JobKind, schedule: string | null, nextRun: Date | null): void {
    Object.assign(this.jobs[kind], { schedule, nextRun: nextRun && iso(nextRun) });
    this.changed();
  }

  setRetry(kind: JobKind, at: Date | null): void {
    this.jobs[kind].retryAt = at && iso(at);
    this.changed();
  }

  setQueue(running: AgentStatusView['running'], queued: readonly JobKind[]): void {
    this.running = running;
    this.queued = queued;
    this.changed();
  }

  /** What the run history says happened before this process (at start). */
  recallSuccess(kind: JobKind, at: number, snapshot?: { id: string; at: number }): void {
    const job = this.jobs[kind];
    if (job.lastSuccess === null || Date.parse(job.lastSuccess) < at) job.lastSuccess = iso(at);
    if (snapshot && (!this.lastSnapshot || Date.parse(this.lastSnapshot.at) < snapshot.at)) this.lastSnapshot = { id: snapshot.id, at: iso(snapshot.at) };
    this.changed();
  }

  jobFinished(kind: JobKind, run: JobRun, snapshotId?: string): void {
    const job = this.jobs[kind];
    job.lastRun = run;
    if (run.outcome === 'ok' || run.outcome === 'incomplete') job.lastSuccess = run.finished;
    if (snapshotId) this.lastSnapshot = { id: snapshotId, at: run.finished };
    if (run.outcome === 'failed') {
      job.consecutiveFailures++;
      this.failingSince ??= run.finished;
    } else if (run.outcome !== 'interrupted') {
      job.consecutiveFailures = 0;
      job.retryAt = null;
    }
    if (run.error) this.lastError = { at: run.finished, job: kind, error: run.error };
    if (JOB_KINDS.every((k) => this.jobs[k].consecutiveFailures === 0)) this.failingSince = null;
    this.changed();
  }

  watcherHealth(): WatcherHealth {
    return this.watcher.health;
  }

  consecutiveFailures(kind: JobKind): number {
    return this.jobs[kind].consecutiveFailures;
  }

  setWatcher(health: WatcherHealth, message: string | null = null): void {
    if (health !== this.watcher.health || message !== this.watcher.message) this.watcher = { health, message, since: iso(Date.now()) };
    this.changed();
  }

  /** The dirty count changed (the view reads it when asked). */
  dirtyChanged(): void {
    this.changed();
  }

  private changed(): void {
    this.emit('change');
  }
}
