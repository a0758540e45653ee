/**
 * The agent's jobs, each a call into the library API (src/app) with the agent's config:
 * back up, rescan, check, drill, apply retention. A job returns how it went; it throws
 * when it could not run (storage down, credentials refused…), and the agent retries it.
 * File names are logged at debug level only.
 * @module
 */
import { hostname } from 'node:os';
import { runBackup } from '../app/backup.js';
import { runCheck } from '../app/check.js';
import { drill } from '../app/drill.js';
import { forgetSnapshots, planForget } from '../app/forget.js';
import { retentionFloorDays } from '../retention/floor.js';
import type { AgentSession } from '../app/agent-session.js';
import type { RepoOptions } from '../app/repo.js';
import { rescan } from '../app/rescan.js';
import { parseSubset } from '../checker/subset.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { SourceFilter } from '../config/sources.js';
import { ExitCode, isStorageError, StorageError } from '../domain/errors.js';
import { CHECK_DAMAGE_ERROR } from '../catalog/reader.js';
import { IDLE_BACKUP_FRACTION } from '../status/thresholds.js';
import type { DirtySet } from './dirty-set.js';
import type { Logger } from './logger.js';
import type { AgentState, JobKind, JobOutcome } from './state.js';

export interface JobContext {
  readonly config: AgentConfig;
  readonly filter: SourceFilter;
  readonly repoOptions: RepoOptions;
  readonly dirty: DirtySet;
  readonly state: AgentState;
  readonly log: Logger;
  /** the open repository (opened on first use; throws when it cannot be) */
  session(): Promise<AgentSession>;
  stopping(): boolean;
  watcherDegraded(): boolean;
}

export interface JobResult {
  readonly outcome: JobOutcome;
  readonly detail?: Record<string, unknown>;
  readonly snapshotId?: string;
}

export type Job = (ctx: JobContext, trigger: string) => Promise<JobResult>;

const PROGRESS_EVERY_MS = 30_000;

const backup: Job = async (ctx, trigger) => {
  const { config, dirty, log } = ctx;
  const session = await ctx.session();
  if (ctx.watcherDegraded()) await markChanges(ctx, session);
  dirty.flush();
  const last = ctx.state.lastBackupSuccess();
  // Idle, it still backs up well before the objective: `coffre status` warns at 80% of it.
  const rpoDue = last === undefined || Date.now() - last >= config.rpoMinutes * 60_000 * IDLE_BACKUP_FRACTION;
  const changes = dirty.count();
  const because = changes > 0 ? 'changes' : rpoDue ? 'recovery point' : trigger === 'signal' ? 'requested' : undefined;
  if (!because) return { outcome: 'skipped', detail: { reason: 'no change since the last backup, which is within the recovery point' } };
  const waitedMs = await dirty.settle(config.watch.settleSeconds * 1000, config.watch.maxSettleSeconds * 1000, ctx.stopping);
  if (ctx.stopping()) return { outcome: 'interrupted' };
  const sel = ctx.filter.selection;
  let lastProgress = Date.now();
  let writing = false;
  try {
    return await session.asWriter('coffre agent (backup)', async () => {
      writing = true;
      dirty.flush();
      const started = Date.now();
      const s = await runBackup(
        session.repo,
        {
          paths: sel.paths,
          exclude: sel.exclude,
          include: sel.include,
          host: config.host,
          tags: config.tags,
          anomaly: config.anomaly,
          shouldStop: ctx.stopping,
          events: {
            itemFailed: (path, reason) => (log.isLevelEnabled('debug') ? log.warn({ path, reason }, 'cannot read an item') : log.warn({ reason }, 'cannot read an item')),
            warning: (path, message) => log.debug({ path }, message),
            progress: (p) => {
              if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
              lastProgress = Date.now();
              log.info({ job: 'backup', ...p }, 'backup progress');
            },
          },
        },
        session.localState,
      );
      const cleared = dirty.clearCovered(s.paths, started, s.failures);
      return {
        outcome: s.failures.length ? 'incomplete' : 'ok',
        snapshotId: s.snapshotId,
        detail: {
          because,
          snapshot: s.snapshotId.slice(0, 8),
          filesNew: s.filesNew,
          filesChanged: s.filesChanged,
          filesUnmodified: s.filesUnmodified,
          unreadable: s.failures.length,
          ...(s.suspect ? { suspect: true, anomaly: s.anomalyReasons } : {}),
          bytesRead: s.bytesRead,
          bytesAdded: s.bytesAdded,
          changedPathsCleared: cleared,
          settledMs: waitedMs,
        },
      };
    });
  } catch (e) {
    // Failed before runBackup could record its run: record it here, for status.
    if (!writing) session.recordFailedStart('backup', e);
    throw e;
  }
};

/** Compares the sources with the last snapshot and marks what differs as dirty. */
async function markChanges(ctx: JobContext, session: AgentSession): Promise<Record<string, unknown>> {
  const limit = ctx.config.watch.maxPendingPaths;
  const r = await rescan(session.repo, {
    host: ctx.config.host ?? hostname(),
    paths: ctx.filter.selection.paths,
    takes: (p, isDir) => ctx.filter.takes(p, isDir),
    limit,
    shouldStop: ctx.stopping,
  });
  if (!ctx.stopping()) {
    const roots = [...new Set(r.changed.map((p) => ctx.filter.rootOf(p) ?? p))];
    ctx.dirty.mark(r.truncated ? roots : r.changed);
  }
  for (const p of r.changed.slice(0, 100)) ctx.log.debug({ path: p }, 'changed (rescan)');
  return { baseline: r.baseline?.slice(0, 8) ?? null, changed: r.changed.length, truncated: r.truncated, itemsScanned: r.itemsScanned };
}

const rescanJob: Job = async (ctx) => {
  const detail = await markChanges(ctx, await ctx.session());
  return { outcome: ctx.stopping() ? 'interrupted' : 'ok', detail };
};

/**
 * A write-only agent (docs/SECURITY.md) cannot read what it stored: checks, drills and
 * retention run from an admin machine with a full key, and `status` keeps reporting their
 * age from the repository's own records there.
 */
const WRITE_ONLY_SKIP = { outcome: 'skipped', detail: { reason: 'write-only key: run it from an admin machine with a full key' } } as const;

const check: Job = async (ctx) => {
  const session = await ctx.session().catch(() => undefined); // only to record the run
  if (session?.repo.writeOnly) return WRITE_ONLY_SKIP;
  const subset = ctx.config.check.readDataSubset;
  const run = () =>
    runCheck(ctx.repoOptions, {
      readData: parseSubset(subset),
      onFinding: (f) => {
        ctx.log[f.severity === 'error' ? 'error' : 'warn']({ job: 'check', object: f.object, affects: f.affects?.length ?? 0 }, f.message);
        for (const a of f.affects ?? []) ctx.log.debug({ snapshot: a.snapshot.slice(0, 8), paths: a.paths }, 'files affected');
      },
    });
  const r = session ? await session.recorded('check', run, (x) => (x.ok ? { result: 'ok' } : { result: 'failed', error: CHECK_DAMAGE_ERROR })) : await run();
  const detail = { readDataSubset: subset, snapshots: r.snapshots, packs: r.packs, packsRead: r.packsRead, bytesRead: r.bytesRead, errors: r.findings.filter((f) => f.severity === 'error').length };
  return { outcome: r.ok ? 'ok' : 'problem', detail };
};

const drillJob: Job = async (ctx) => {
  const session = await ctx.session().catch(() => undefined); // only to record the result
  if (session?.repo.writeOnly) return WRITE_ONLY_SKIP;
  const d = ctx.config.drill;
  const report = await drill(ctx.repoOptions, {
    mode: d.full ? { kind: 'full' } : { kind: 'sample', files: d.sample },
    compareLive: d.compareLive,
    program: 'coffre agent',
    onReport: (r) => session?.recordDrill(r),
    events: { warning: (m) => ctx.log.warn({ job: 'drill' }, m) },
  });
  if (report.error?.exitCode === ExitCode.storage) throw new StorageError('other', report.error.message);
  const detail = {
    snapshot: report.snapshot.id.slice(0, 8),
    files: report.verified.files,
    bytes: report.verified.bytes,
    mismatches: report.mismatches,
    rtoEstimateMs: report.rtoEstimateMs,
    ...(report.error ? { error: report.error.message } : {}),
  };
  return { outcome: report.result === 'ok' ? 'ok' : 'problem', detail };
};

const retention: Job = async (ctx) => {
  const policy = ctx.config.retention;
  if (!policy) return { outcome: 'skipped', detail: { reason: 'no retention policy' } };
  const session = await ctx.session();
  if (session.repo.writeOnly) return WRITE_ONLY_SKIP;
  const plan = await planForget(session.repo, policy, { floorDays: retentionFloorDays(policy.floorDays), keepClean: ctx.config.anomaly.keepClean });
  for (const d of plan.forget) {
    const s = d.snapshot;
    ctx.log.info({ job: 'retention', snapshot: s.shortId, snapshotTime: s.time, host: s.host }, policy.apply ? 'forgetting snapshot' : 'would forget snapshot (retention.apply is false)');
  }
  const detail = { keep: plan.keep.length, forget: plan.forget.length, applied: policy.apply };
  if (!policy.apply || plan.forget.length === 0) return { outcome: 'ok', detail };
  try {
    const ids = plan.forget.map((d) => d.snapshot.id);
    await session.recorded('forget', () => forgetSnapshots(session.repo, ids, session.catalog), () => ({ result: 'ok' }));
  } catch (e) {
    if (!isStorageError(e, 'permission')) throw e;
    ctx.log.error(
      { job: 'retention' },
      'the storage refused to delete snapshots: these credentials cannot delete (as recommended for an agent); forget from an administration machine, or set retention.apply to false',
    );
    return { outcome: 'problem', detail: { ...detail, applied: false } };
  }
  return { outcome: 'ok', detail };
};

export const JOBS: Readonly<Record<JobKind, Job>> = { backup, rescan: rescanJob, check, drill: drillJob, retention };
