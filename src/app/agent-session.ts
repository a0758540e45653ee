/**
 * The agent's repository, open for as long as it works: unlocking costs an Argon2id run
 * (256 MiB and half a second with the default key files, a gigabyte with `sensitive` ones),
 * far too much to pay at every job. The catalog stays attached for the dirty set and the
 * run history, but the catalog's writer lock is held only while a job writes (`asWriter`),
 * so a manual `coffre backup` between two scheduled ones works, and one during a job is
 * refused with the usual "locked" message.
 *
 * Each writing job starts as a writer command does (beginWriting, local-state.ts): lock,
 * mark the runs of dead processes interrupted, complete the catalog, merge new index
 * objects, index the packs an interrupted backup stored (crash resume), so that nothing is
 * uploaded twice.
 * @module
 */
import { hostname } from 'node:os';
import type { Catalog } from '../catalog/catalog.js';
import type { RunResult } from '../catalog/runs.js';
import { describeError } from '../domain/errors.js';
import type { Repository } from '../repository/repository.js';
import { drillRecord, type DrillReport } from './drill.js';
import { beginWriting, type LocalState } from './local-state.js';
import { openRepositoryWithState, type RepoOptions } from './repo.js';
import { readSecretFile } from '../util/secret-file.js';
import { readCredentialFiles } from '../storage/s3/credentials.js';

/**
 * Reads the passphrase file and the S3 credential files once, to refuse at start a file
 * that is missing, empty, or readable by group or others (SecretFileError: exit 2).
 */
export async function checkSecretFiles(opts: RepoOptions): Promise<void> {
  if (opts.passwordFile) (await readSecretFile(opts.passwordFile)).fill(0);
  if (opts.storage?.s3) await readCredentialFiles(opts.storage.s3);
}

export class AgentSession {
  private constructor(
    readonly repo: Repository,
    private readonly local: LocalState | undefined,
    private readonly notice: (m: string) => void,
  ) {}

  /** Opens, unlocks, and prepares the catalog as a writer would (rebuild, resume), then lets the lock go. */
  static async open(opts: RepoOptions, notice: (m: string) => void): Promise<AgentSession> {
    const { repo, local } = await openRepositoryWithState({ ...opts, catalog: 'write', command: 'coffre agent', notice });
    local?.lock?.release();
    return new AgentSession(repo, local, notice);
  }

  /** Undefined when the state directory cannot be used (the agent then works from the repository alone). */
  get catalog(): Catalog | undefined {
    return this.local?.catalog;
  }

  /** For runBackup, which records its run and uses the file-change cache through it. */
  get localState(): LocalState | undefined {
    return this.local;
  }

  /** Runs `fn` as this repository's writer on this machine (beginWriting: lock, complete, merge, resume). */
  async asWriter<T>(command: string, fn: () => Promise<T>): Promise<T> {
    const catalog = this.catalog;
    if (!catalog) {
      await this.repo.loadIndex();
      return fn();
    }
    const { lock } = await beginWriting(this.repo, catalog, { command, notice: this.notice });
    try {
      return await fn();
    } finally {
      lock.release();
    }
  }

  /** The last successful run of a kind, from the run history (it outlives the agent). */
  lastSuccess(kind: 'backup' | 'check' | 'forget' | 'drill'): { at: number; snapshotId?: string } | undefined {
    const c = this.catalog;
    if (!c) return undefined;
    if (kind === 'drill') {
      const d = c.drills.last('ok');
      return d && { at: d.finished, snapshotId: d.snapshotId };
    }
    const r = c.runs.last(kind);
    return r && { at: r.finished ?? r.started, ...(r.snapshotId ? { snapshotId: r.snapshotId } : {}) };
  }

  /** Runs `fn` recorded in the run history as a `kind` run; `judge` says how it went. */
  async recorded<T>(kind: 'check' | 'forget', fn: () => Promise<T>, judge: (t: T) => { result: Exclude<RunResult, 'running'>; error?: string }): Promise<T> {
    const c = this.catalog;
    const run = c?.runs.start(kind, { pid: process.pid, host: hostname() });
    let value: T;
    try {
      value = await fn();
    } catch (e) {
      if (run !== undefined) c?.runs.finish(run, { result: 'failed', error: describeError(e) });
      throw e;
    }
    if (run !== undefined) c?.runs.finish(run, judge(value));
    return value;
  }

  /**
   * A backup that failed before it could start its run (the storage down when the index is
   * merged, the repository gone): recorded as a failed run all the same, so that `coffre
   * status` sees it from the catalog alone.
   */
  recordFailedStart(kind: 'backup', error: unknown): void {
    const c = this.catalog;
    const run = c?.runs.start(kind, { pid: process.pid, host: hostname() });
    if (run !== undefined) c?.runs.finish(run, { result: 'failed', error: describeError(error) });
  }

  recordDrill(report: DrillReport): void {
    this.catalog?.drills.add(drillRecord(report));
  }

  /** At a shutdown that could not wait for the job in flight: its run is recorded as interrupted. */
  abandonRuns(why: string): void {
    const c = this.catalog;
    if (!c) return;
    for (const r of c.runs.recent(10)) if (r.result === 'running' && r.pid === process.pid) c.runs.finish(r.id, { result: 'interrupted', error: why });
  }

  /** Between jobs: the codec's worker threads stop (they start again on first use), decoded trees are dropped. */
  async idle(): Promise<void> {
    this.repo.dropTreeCache();
    await this.repo.close();
  }

  async close(): Promise<void> {
    try {
      this.local?.close();
    } finally {
      await this.repo.close();
      await this.repo.storage.close();
    }
  }
}
