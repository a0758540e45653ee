/**
 * The agent: watches the sources, runs the jobs on their schedules one at a time, retries
 * what fails with backoff, and keeps running whatever the storage does. Only a signal
 * stops it (signals.ts): SIGTERM stops taking work, lets the job in flight stop (a backup
 * stops between files and writes no snapshot), records the run and exits 0 within 10 s;
 * SIGHUP reloads the config, keeping the running one if the new one is invalid.
 *
 * It holds the state directory (AgentLock) for its whole life, and the repository open
 * (AgentSession) while it works; a session that meets refused credentials is dropped, so
 * that the next attempt re-reads the passphrase and credential files.
 * @module
 */
import * as fs from 'node:fs';
import { AgentSession, checkSecretFiles } from '../app/agent-session.js';
import { resolveStateDir } from '../app/local-state.js';
import type { RepoOptions } from '../app/repo.js';
import { BackupStoppedError } from '../archiver/archiver.js';
import { loadAgentConfig, type AgentConfig } from '../config/agent-config.js';
import { backupSelection, SourceFilter } from '../config/sources.js';
import { ConfigError, describeError, isStorageError, WrongPasswordError } from '../domain/errors.js';
import { describeLocation } from '../storage/open-storage.js';
import { AgentAudit } from './agent-audit.js';
import { AgentLock } from './agent-lock.js';
import { DirtySet } from './dirty-set.js';
import { JobQueue } from './job-queue.js';
import { JOBS, type JobContext, type JobResult } from './jobs.js';
import { HealthMonitor } from './health-monitor.js';
import { errorFields, memoryFields, type Logger } from './logger.js';
import { Scheduler } from './scheduler.js';
import { AgentState, type AgentStatusView, type JobKind, type JobOutcome, type JobRun } from './state.js';
import { StatusFile } from './status-file.js';
import { SourceWatcher } from './watcher.js';

/** How long a shutdown waits for the job in flight (the whole stop must fit in 10 s). */
const STOP_GRACE_MS = 7000;

export function stateDirOf(c: AgentConfig): string {
  return resolveStateDir(c.stateDir);
}

export class Agent {
  readonly state: AgentState;
  private filter: SourceFilter;
  private readonly dirty: DirtySet;
  private readonly queue: JobQueue;
  private readonly scheduler: Scheduler;
  private readonly statusFile: StatusFile;
  /** metrics, textfile and alerts: the status model, judged continuously */
  private readonly health: HealthMonitor;
  private watcher: SourceWatcher | undefined;
  private session: AgentSession | undefined;
  private readonly audit: AgentAudit;
  private reopen = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;

  private constructor(
    private config: AgentConfig,
    private readonly lock: AgentLock,
    private readonly log: Logger,
  ) {
    this.filter = new SourceFilter(backupSelection(config.sources));
    this.state = new AgentState({ configFile: config.file, repository: describeLocation(config.repository) }, () => ({
      count: this.dirty.count(),
      oldest: this.dirty.oldest(),
    }));
    this.statusFile = StatusFile.in(stateDirOf(config), () => this.state.view());
    this.state.on('change', () => this.statusFile.changed());
    this.health = new HealthMonitor(() => this.config, stateDirOf(config), this.state, log);
    this.audit = new AgentAudit(stateDirOf(config), (m) => log.warn(m));
    this.audit.configLoaded(config, 'started');
    this.dirty = new DirtySet({
      debounceMs: config.watch.debounceMs,
      maxPending: config.watch.maxPendingPaths,
      rootOf: (p) => this.filter.rootOf(p),
      log,
      onChange: () => this.state.dirtyChanged(),
    });
    this.queue = new JobQueue(
      (kind, trigger) => this.runJob(kind, trigger),
      (v) => this.state.setQueue(v.running, v.queued),
    );
    this.scheduler = new Scheduler((kind, trigger) => this.enqueue(kind, trigger), this.state, log);
  }

  /** Refuses unusable secret files and a state directory held by another agent, then starts. */
  static async start(config: AgentConfig, log: Logger): Promise<Agent> {
    await usable(config, log);
    const stateDir = stateDirOf(config);
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const agent = new Agent(config, await AgentLock.acquire(stateDir), log);
    agent.begin();
    await agent.health.start();
    return agent;
  }

  status(): AgentStatusView {
    return this.state.view();
  }

  /** A backup now, whatever the dirty set says (SIGUSR1). */
  requestBackup(trigger = 'signal'): void {
    this.enqueue('backup', trigger);
  }

  /**
   * Re-reads the config file; an invalid one is logged and the running config kept.
   * Reloads run one after the other (two quick SIGHUPs must not both swap the watcher) and
   * never reject: a failure is logged, the agent goes on.
   */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow()).catch((e: unknown) => {
      this.log.error({ error: errorFields(e) }, `reload failed: ${describeError(e)}`);
    });
    return this.reloading;
  }

  private reloading: Promise<void> = Promise.resolve();

  private async reloadNow(): Promise<void> {
    if (this.stopping) return;
    let next: AgentConfig;
    try {
      next = await loadAgentConfig(this.config.file);
      await usable(next, this.log);
      if (stateDirOf(next) !== stateDirOf(this.config)) throw new Error('stateDir cannot change on reload: restart the agent to move it');
    } catch (e) {
      this.log.error({ error: errorFields(e) }, `reload refused, the running config stays: ${describeError(e)}`);
      return;
    }
    this.config = next;
    this.filter = new SourceFilter(backupSelection(next.sources));
    this.log.level = next.logLevel;
    await this.watcher?.close();
    this.startWatching();
    this.scheduler.setSchedules(next.schedule);
    this.reopen = true; // passphrase, credentials and repository are read again at the next job
    this.log.info({ sources: next.sources.length, schedule: next.schedule }, 'config reloaded');
    this.audit.configLoaded(next, 'reloaded');
    this.enqueue('rescan', 'reload');
  }

  /** Stops taking work, lets the job in flight stop, releases everything. Safe to call twice. */
  stop(signal: string): Promise<void> {
    return (this.stopped ??= this.shutdown(signal));
  }

  private begin(): void {
    const c = this.config;
    this.log.info(
      { repository: describeLocation(c.repository), sources: c.sources.length, schedule: c.schedule, rpoMinutes: c.rpoMinutes, watch: c.watch.enabled },
      'agent started',
    );
    if (!c.schedule.check) this.log.warn('no check is scheduled (schedule.check): damage in the repository would go unnoticed');
    this.startWatching();
    this.scheduler.setSchedules(c.schedule);
    if (c.watch.rescanOnStart) this.enqueue('rescan', 'start');
    this.enqueue('backup', 'start');
    this.state.setPhase('running');
  }

  private startWatching(): void {
    if (!this.config.watch.enabled) {
      this.watcher = undefined;
      this.state.setWatcher('off');
      return;
    }
    this.watcher = new SourceWatcher(this.filter, this.dirty, this.state, this.log, { usePolling: this.config.watch.usePolling });
    this.watcher.start();
  }

  private enqueue(kind: JobKind, trigger: string): void {
    if (!this.queue.enqueue(kind, trigger)) this.log.debug({ job: kind, trigger }, 'already waiting');
  }

  private context(): JobContext {
    return {
      config: this.config,
      filter: this.filter,
      repoOptions: repoOptions(this.config, this.log),
      dirty: this.dirty,
      state: this.state,
      log: this.log,
      session: () => this.openSession(),
      stopping: () => this.stopping,
      watcherDegraded: () => this.config.watch.enabled && this.state.watcherHealth() === 'degraded',
    };
  }

  private async runJob(kind: JobKind, trigger: string): Promise<void> {
    const started = Date.now();
    const failuresBefore = this.state.consecutiveFailures(kind);
    this.log.debug({ job: kind, trigger }, `${kind} starting`);
    let result: JobResult | undefined;
    let error: unknown;
    try {
      result = await JOBS[kind](this.context(), trigger);
    } catch (e) {
      error = e;
    } finally {
      await this.session?.idle().catch(() => undefined);
      if (this.log.isLevelEnabled('debug')) this.log.debug({ job: kind, ...memoryFields() }, 'memory after the job');
    }
    const outcome: JobOutcome = result?.outcome ?? (error instanceof BackupStoppedError || this.stopping ? 'interrupted' : 'failed');
    const run: JobRun = {
      trigger,
      started: new Date(started).toISOString(),
      finished: new Date().toISOString(),
      durationMs: Date.now() - started,
      outcome,
      ...(result?.detail ? { detail: result.detail } : {}),
      ...(outcome === 'failed' ? { error: errorFields(error) } : {}),
    };
    this.state.jobFinished(kind, run, result?.snapshotId);
    await this.audit.jobDone(this.session?.repo, kind, outcome, result, this.filter.selection.paths, error);
    if (outcome === 'failed') return this.failed(kind, error, run);
    this.scheduler.cancelRetry(kind);
    const fields = { job: kind, trigger, outcome, durationMs: run.durationMs, ...result?.detail };
    if (outcome === 'skipped') this.log.debug(fields, `${kind} skipped`);
    else if (outcome === 'problem') this.log.error(fields, `${kind} found a problem`);
    else if (outcome === 'interrupted') this.log.info(fields, `${kind} interrupted by the shutdown; nothing was committed, the next start resumes`);
    else this.log.info(fields, failuresBefore ? `${kind} done, recovered after ${failuresBefore} failure(s)` : `${kind} done`);
  }

  private async failed(kind: JobKind, error: unknown, run: JobRun): Promise<void> {
    // Refused credentials or passphrase: open afresh next time, reading the files again.
    if (error instanceof WrongPasswordError || isStorageError(error, 'permission')) await this.closeSession();
    const failures = this.state.consecutiveFailures(kind);
    const fields = { job: kind, trigger: run.trigger, durationMs: run.durationMs, failures, error: run.error };
    if (this.stopping) return void this.log.warn(fields, `${kind} failed during shutdown: ${describeError(error)}`);
    const retryAt = this.scheduler.retryLater(kind, failures, this.config.retry).toISOString();
    this.log.error({ ...fields, retryAt }, `${kind} failed: ${describeError(error)}; retrying at ${retryAt}`);
  }

  private async openSession(): Promise<AgentSession> {
    if (this.session && !this.reopen) return this.session;
    await this.closeSession();
    this.reopen = false;
    const s = await AgentSession.open(repoOptions(this.config, this.log), (m) => this.log.warn(m));
    this.session = s;
    this.dirty.attach(s.catalog?.dirty);
    this.dirty.dropUnwatched();
    for (const kind of ['backup', 'check', 'drill'] as const) {
      const last = s.lastSuccess(kind);
      if (last) this.state.recallSuccess(kind, last.at, kind === 'backup' && last.snapshotId ? { id: last.snapshotId, at: last.at } : undefined);
    }
    const forgot = s.lastSuccess('forget');
    if (forgot) this.state.recallSuccess('retention', forgot.at);
    if (!s.catalog) this.log.warn('no catalog: changed paths are kept in memory only, and every backup reads every file');
    this.log.info({ repository: describeLocation(this.config.repository), repositoryId: s.repo.config.id.slice(0, 8) }, 'repository opened');
    return s;
  }

  private async closeSession(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (!s) return;
    this.dirty.flush();
    this.dirty.attach(undefined);
    await s.close().catch((e: unknown) => this.log.warn({ error: errorFields(e) }, 'closing the repository failed'));
  }

  private async shutdown(signal: string): Promise<void> {
    this.stopping = true;
    this.state.setPhase('stopping');
    const running = this.queue.view().running;
    this.log.info({ signal, running: running?.job ?? null }, 'stopping');
    this.scheduler.stop();
    await this.watcher?.close().catch(() => undefined);
    this.dirty.flush();
    const timer = new Promise<false>((r) => setTimeout(() => r(false), STOP_GRACE_MS).unref());
    const finished = await Promise.race([this.queue.stop().then(() => true as const), timer]);
    if (finished) {
      await this.closeSession();
    } else {
      // Nothing is lost: packs already stored are journaled and reused by the next backup.
      this.log.warn({ job: running?.job }, 'the job in flight did not stop in time and is abandoned; the next start resumes it');
      this.session?.abandonRuns(`the agent stopped (${signal}) before the run finished`);
    }
    await this.health.stop();
    this.state.setPhase('stopped');
    this.statusFile.write();
    await this.lock.release();
    this.log.info({ signal }, 'stopped');
  }
}

/** What the schema cannot tell: a repository string that parses, secret files that can be used. */
async function usable(config: AgentConfig, log: Logger): Promise<void> {
  try {
    describeLocation(config.repository);
  } catch (e) {
    throw new ConfigError(`agent config ${config.file}: repository: ${describeError(e)}`);
  }
  await checkSecretFiles(repoOptions(config, log));
}

function repoOptions(c: AgentConfig, log: Logger): RepoOptions {
  return {
    repo: c.repository,
    passwordFile: c.passwordFile,
    stateDir: stateDirOf(c),
    workers: c.workers,
    storage: {
      ...(c.s3 ? { s3: { accessKeyIdFile: c.s3.accessKeyIdFile, secretAccessKeyFile: c.s3.secretAccessKeyFile, region: c.s3.region } } : {}),
      concurrency: c.s3?.concurrency,
      uploadBytesPerSecond: c.s3?.uploadBytesPerSecond,
      retry: {
        onRetry: (ev) =>
          log[ev.attempt >= 3 ? 'warn' : 'debug']({ op: ev.op, object: ev.key, attempt: ev.attempt, delayMs: ev.delayMs, kind: ev.error.kind }, 'storage request failed; retrying'),
      },
    },
  };
}
