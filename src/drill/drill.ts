/**
 * A restore drill: proof that a snapshot restores. The snapshot (all of it, or a sample of
 * its files drawn so that large and small files are both represented) is restored into a
 * private scratch directory exactly as a real restore would, every restored byte is read
 * back and checked against the ids recorded at backup time, the live files can be compared
 * too (changes made since the backup are reported apart from corruption), and the scratch
 * data is deleted. The result is a DrillReport: what was checked, what failed and which
 * files it concerns, how long it took, and the projected time to restore everything at
 * that rate (the RTO estimate).
 *
 * A drill reads the repository only: it refuses to run unless the repository's storage is
 * the read-only wrapper (src/app/drill.ts opens it so), and nothing here writes to
 * storage anyway. It emits events and never prints.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeError, ExitCode, UsageError, type CoffreError } from '../domain/errors.js';
import type { BlobId } from '../domain/ids.js';
import type { Repository } from '../repository/repository.js';
import { isReadOnly } from '../storage/read-only.js';
import { MTIME_TOLERANCE_NS } from '../restorer/file-writer.js';
import { planItems, walkItems, type PlannedFile, type PlannedItem, type RestorePlan } from '../restorer/plan.js';
import { restorePlan, type RestoreFailure, type RestoreResult } from '../restorer/restorer.js';
import { verifyFile } from '../restorer/verify.js';
import { FileSampler, seededRandom } from './sample.js';

export const DRILL_REPORT_VERSION = 1;
/** Lists in a report stop at this many entries; their counts are always exact. */
export const MAX_LISTED = 1000;
export const DEFAULT_SAMPLE = 200;

export type DrillMode = { readonly kind: 'full' } | { readonly kind: 'sample'; readonly files: number };

export interface DrillEvents {
  phase?(name: 'plan' | 'restore' | 'compare' | 'cleanup', detail: string): void;
  progress?(p: { filesDone: number; bytesDone: number; filesTotal: number; bytesTotal: number }): void;
}

export interface DrillOptions {
  /** "latest" (default), a snapshot id or a unique prefix */
  readonly snapshot?: string;
  readonly mode?: DrillMode;
  /** seed of the sample draw (random if not given; recorded in the report) */
  readonly seed?: number;
  /** where the scratch directory is created (default: the system temporary directory) */
  readonly scratchParent?: string;
  /** also compare the restored files with the live files at their original paths */
  readonly compareLive?: boolean;
  /** packs fetched at once (the restorer's default if not given) */
  readonly concurrency?: number;
  readonly program?: string;
  readonly events?: DrillEvents;
}

export interface PathIssue {
  readonly path: string;
  readonly reason: string;
  /** the damaged or missing storage object, when one is to blame */
  readonly object?: string;
}

export interface LiveComparison {
  /** restored files compared with the live file at the same path */
  readonly compared: number;
  readonly identical: number;
  /** live file modified since the backup (other size or mtime): expected, not corruption */
  readonly changedSinceBackup: number;
  /** live file gone */
  readonly deletedSinceBackup: number;
  /** same size and mtime as at backup time, yet other content: worth a look (silent change, disk fault) */
  readonly unexplained: number;
  readonly unreadable: number;
  /** paths, at most MAX_LISTED per list */
  readonly changedPaths: readonly string[];
  readonly deletedPaths: readonly string[];
  readonly unexplainedPaths: readonly PathIssue[];
  readonly unreadablePaths: readonly PathIssue[];
}

export interface DrillReport {
  readonly version: typeof DRILL_REPORT_VERSION;
  /** random id of this drill */
  readonly id: string;
  readonly result: 'ok' | 'failed';
  readonly started: string;
  readonly finished: string;
  /** the machine that ran the drill */
  readonly host: string;
  readonly program: string;
  /** repository location (never credentials) */
  readonly repository: string;
  /** the drill's storage refused every write (always true: a drill runs on nothing else) */
  readonly readOnly: true;
  readonly snapshot: {
    readonly id: string;
    readonly time: string;
    readonly host: string;
    readonly paths: readonly string[];
    readonly files: number;
    readonly bytes: number;
  };
  readonly mode: 'full' | 'sample';
  readonly sample?: { readonly requested: number; readonly seed: number };
  /** what the drill restored */
  readonly selected: { readonly files: number; readonly bytes: number; readonly dirs: number; readonly symlinks: number };
  /** files read back and found identical to the snapshot */
  readonly verified: { readonly files: number; readonly bytes: number };
  /** files (or directories, links) that did not restore identically: corruption, missing data */
  readonly mismatches: number;
  readonly mismatchList: readonly PathIssue[];
  /** damaged repository objects met on the way (index objects) */
  readonly repositoryProblems: readonly { readonly object: string; readonly message: string }[];
  readonly live?: LiveComparison;
  readonly timings: {
    readonly planMs: number;
    readonly restoreMs: number;
    readonly verifyMs: number;
    readonly compareMs: number;
    readonly cleanupMs: number;
    readonly durationMs: number;
  };
  /** restored bytes per second during the restore phase */
  readonly throughputBytesPerSec: number;
  /** projected time to restore the whole snapshot: measured (full drill) or extrapolated (sample) */
  readonly rtoEstimateMs: number;
  readonly rtoBasis: 'measured' | 'extrapolated';
  readonly scratch: { readonly parent: string; readonly removed: boolean };
  /** set when the drill could not run to the end */
  readonly error?: { readonly message: string; readonly exitCode: number };
}

/**
 * Runs a drill against an open repository (opened read-only by the caller). Problems
 * after the snapshot is found — damaged data, storage errors, a full scratch disk — end up
 * in the report (result "failed", `error`), so that a failed drill is recorded too.
 */
export async function runDrill(repo: Repository, opts: DrillOptions = {}): Promise<DrillReport> {
  if (!isReadOnly(repo.storage)) throw new Error('internal: a drill runs only on storage opened read-only');
  repo.requireFullKey('backups to drill');
  const started = new Date();
  const t0 = Date.now();
  const mode = opts.mode ?? { kind: 'sample', files: DEFAULT_SAMPLE };
  if (mode.kind === 'sample' && !(Number.isInteger(mode.files) && mode.files >= 1)) throw new UsageError(`--sample: expected a positive number of files, got ${mode.files}`);
  const seed = opts.seed ?? randomBytes(4).readUInt32LE(0);
  const entry = await repo.findSnapshot(opts.snapshot ?? 'latest');
  const scratchParent = path.resolve(opts.scratchParent ?? os.tmpdir());

  /** the snapshot's files and bytes, once walked */
  let whole: { files: number; bytes: number } | undefined;
  let plan: RestorePlan | undefined;
  let restore: RestoreResult | undefined;
  let live: LiveComparison | undefined;
  let error: DrillReport['error'];
  let removed = true;
  const times = { planMs: 0, compareMs: 0, cleanupMs: 0 };

  let scratch: string | undefined;
  try {
    opts.events?.phase?.('plan', entry.id);
    if (mode.kind === 'full') {
      plan = await planItems(repo, entry.snapshot.tree, []);
      whole = { files: plan.files.length, bytes: plan.totalBytes };
    } else {
      ({ plan, whole } = await samplePlan(repo, entry.snapshot.tree, mode.files, seededRandom(seed)));
    }
    times.planMs = Date.now() - t0;

    await fs.mkdir(scratchParent, { recursive: true });
    await checkSpace(scratchParent, plan.totalBytes);
    scratch = await fs.mkdtemp(path.join(scratchParent, 'coffre-drill-'));
    await fs.chmod(scratch, 0o700); // restored files may be patient data
    removed = false;

    opts.events?.phase?.('restore', scratch);
    restore = await restorePlan(repo, plan, { target: scratch, verify: true, concurrency: opts.concurrency, events: { progress: opts.events?.progress } });

    if (opts.compareLive) {
      opts.events?.phase?.('compare', `${plan.files.length} file(s)`);
      const c0 = Date.now();
      const failed = new Set(restore.failures.map((f) => f.path));
      live = await compareLive(repo, plan.files.filter((f) => !failed.has(f.snapshotPath)));
      times.compareMs = Date.now() - c0;
    }
  } catch (e) {
    error = { message: describeError(e), exitCode: (e as CoffreError).exitCode ?? ExitCode.failure };
  } finally {
    if (scratch !== undefined) {
      opts.events?.phase?.('cleanup', scratch);
      const c0 = Date.now();
      removed = await removeScratch(scratch);
      times.cleanupMs = Date.now() - c0;
    }
  }

  const finished = new Date();
  const failures: readonly RestoreFailure[] = restore?.failures ?? [];
  const problems = [...repo.damagedIndexes];
  const restoreMs = restore?.restoreMs ?? 0;
  const bytes = restore ? restore.bytes + restore.resumedBytes : 0;
  const throughput = restoreMs > 0 ? Math.round((bytes * 1000) / restoreMs) : 0;
  const totalBytes = whole?.bytes ?? entry.snapshot.summary?.totalBytes ?? 0;
  const measured = mode.kind === 'full' || (plan !== undefined && whole !== undefined && plan.files.length === whole.files);
  const rtoEstimateMs = measured
    ? times.planMs + restoreMs
    : times.planMs + (throughput > 0 ? Math.round((totalBytes * 1000) / throughput) : 0);
  const ok = error === undefined && failures.length === 0 && problems.length === 0 && removed;

  return {
    version: DRILL_REPORT_VERSION,
    id: randomUUID(),
    result: ok ? 'ok' : 'failed',
    started: started.toISOString(),
    finished: finished.toISOString(),
    host: os.hostname(),
    program: opts.program ?? 'coffre',
    repository: repo.storage.location,
    readOnly: true,
    snapshot: {
      id: entry.id,
      time: entry.snapshot.time,
      host: entry.snapshot.host,
      paths: entry.snapshot.paths,
      files: whole?.files ?? entry.snapshot.summary?.totalFiles ?? 0,
      bytes: totalBytes,
    },
    mode: mode.kind,
    ...(mode.kind === 'sample' ? { sample: { requested: mode.files, seed } } : {}),
    selected: {
      files: plan?.files.length ?? 0,
      bytes: plan?.totalBytes ?? 0,
      dirs: plan?.dirs.length ?? 0,
      symlinks: plan?.symlinks.length ?? 0,
    },
    verified: { files: restore?.verifiedFiles ?? 0, bytes: restore?.verifiedBytes ?? 0 },
    mismatches: failures.length,
    mismatchList: failures.slice(0, MAX_LISTED).map((f) => ({ path: f.path, reason: f.reason, ...(f.object !== undefined ? { object: f.object } : {}) })),
    repositoryProblems: problems,
    ...(live ? { live } : {}),
    timings: {
      planMs: times.planMs,
      restoreMs,
      verifyMs: restore?.verifyMs ?? 0,
      compareMs: times.compareMs,
      cleanupMs: times.cleanupMs,
      durationMs: finished.getTime() - started.getTime(),
    },
    throughputBytesPerSec: throughput,
    rtoEstimateMs,
    rtoBasis: measured ? 'measured' : 'extrapolated',
    scratch: { parent: scratchParent, removed },
    ...(error ? { error } : !removed ? { error: { message: `could not remove the scratch directory under ${scratchParent}`, exitCode: ExitCode.failure } } : {}),
  };
}

/** Refuses to start a drill that cannot fit: a half-restored scratch directory proves nothing. */
async function checkSpace(dir: string, bytes: number): Promise<void> {
  const st = await fs.statfs(dir).catch(() => undefined);
  if (!st) return;
  const free = Number(st.bavail) * Number(st.bsize);
  const needed = bytes + 64 * 1024 * 1024; // room for metadata and the rest of the system
  if (free < needed) {
    throw new UsageError(`the scratch directory ${dir} has ${free} bytes free; this drill restores ${bytes} bytes`, {
      hint: 'choose another place with --scratch DIR, or a sample with --sample N',
    });
  }
}

/** Deletes the scratch tree, making read-only directories writable first (restored modes). */
async function removeScratch(dir: string): Promise<boolean> {
  const open = async (d: string): Promise<void> => {
    await fs.chmod(d, 0o700).catch(() => undefined);
    const entries = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
    await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => open(path.join(d, e.name))));
  };
  try {
    await open(dir);
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 2 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A sampled drill's plan, drawn as the snapshot is walked (FileSampler): the walk keeps the
 * directories and a bounded reservoir of files, not every file of the snapshot (a plan of
 * 200,000 files held about 100 MB). The sampled files come after their directories, which
 * come in the walk's order (each before what it holds), as a restore needs them.
 */
async function samplePlan(repo: Repository, tree: BlobId, n: number, random: () => number): Promise<{ plan: RestorePlan; whole: { files: number; bytes: number } }> {
  const sampler = new FileSampler<PlannedFile>(n, random);
  const dirs: PlannedItem[] = [];
  const whole = { files: 0, bytes: 0 };
  for await (const run of walkItems(repo, tree, [])) {
    for (const item of run) {
      if (item.node.type === 'dir') dirs.push(item);
      else if (item.node.type === 'file') {
        whole.files++;
        whole.bytes += item.node.size ?? 0;
        sampler.add(item);
      }
    }
  }
  const files = sampler.draw();
  const needed = new Set<string>();
  for (const f of files) for (let p = path.posix.dirname(f.snapshotPath); p !== '/'; p = path.posix.dirname(p)) needed.add(p);
  const kept = dirs.filter((d) => needed.has(d.snapshotPath));
  const plan: RestorePlan = { dirs: kept, files, symlinks: [], order: [...kept, ...files], totalBytes: files.reduce((sum, f) => sum + (f.node.size ?? 0), 0) };
  return { plan, whole };
}

/**
 * Compares restored files (already verified against the snapshot) with the live files at
 * their original paths: through the snapshot's content ids, so identical means identical
 * to what was restored.
 */
async function compareLive(repo: Repository, files: readonly PlannedFile[]): Promise<LiveComparison> {
  let identical = 0;
  const changed: string[] = [];
  const deleted: string[] = [];
  const unexplained: PathIssue[] = [];
  const unreadable: PathIssue[] = [];
  const counts = { changed: 0, deleted: 0, unexplained: 0, unreadable: 0 };
  const push = <T>(list: T[], v: T) => list.length < MAX_LISTED && list.push(v);
  for (const f of files) {
    const p = f.snapshotPath;
    const st = await fs.lstat(p, { bigint: true }).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      if (st.code === 'ENOENT' || st.code === 'ENOTDIR') {
        counts.deleted++;
        push(deleted, p);
      } else {
        counts.unreadable++;
        push(unreadable, { path: p, reason: st.code ?? st.message });
      }
      continue;
    }
    const dt = st.mtimeNs - BigInt(f.node.mtimeNs);
    const sameStat = st.isFile() && st.size === BigInt(f.node.size ?? 0) && dt < MTIME_TOLERANCE_NS && dt > -MTIME_TOLERANCE_NS;
    const diff = st.isFile() ? await verifyFile(repo, p, f.node) : 'not a regular file any more';
    if (diff === undefined) identical++;
    else if (diff.startsWith('cannot open')) {
      counts.unreadable++;
      push(unreadable, { path: p, reason: diff });
    } else if (!sameStat) {
      counts.changed++;
      push(changed, p);
    } else {
      counts.unexplained++;
      push(unexplained, { path: p, reason: diff });
    }
  }
  return {
    compared: files.length,
    identical,
    changedSinceBackup: counts.changed,
    deletedSinceBackup: counts.deleted,
    unexplained: counts.unexplained,
    unreadable: counts.unreadable,
    changedPaths: changed,
    deletedPaths: deleted,
    unexplainedPaths: unexplained,
    unreadablePaths: unreadable,
  };
}
