/**
 * Restoring a snapshot (or part of it) under a target directory. Paths are recreated as
 * they were backed up (/srv/data/a → TARGET/srv/data/a). Every pack is fetched once —
 * only the byte ranges holding needed blobs — and several packs at a time; blobs are
 * authenticated and checked against their ids before they are written.
 *
 * A damaged or missing object fails only the files that need it: the rest is restored,
 * and the failed files are reported by name. Existing files are kept unless `overwrite`;
 * a file already restored identically (same size and mtime) is skipped, and the intact
 * pieces of a part file left by a killed restore are kept, which is what makes an
 * interrupted restore resumable.
 *
 * The worker threads do the heavy part (workers/restore-task.ts): each opens a fetched range
 * blob by blob into reused memory and writes the bytes into the files, and restores whole
 * the files all of whose blobs are in that range (most small files) — create, write, owner,
 * mode, times, rename. The main thread fetches ranges, creates and finishes the files whose
 * blobs span several ranges, and keeps count. The main thread never handles plaintext: a
 * range's memory comes back (holding what was decrypted in place) only to be read into again.
 *
 * Memory stays bounded: at most `concurrency` ranges of at most the storage's readBytes are
 * held (its readsInFlight: 3 ranges of 2 MiB on a local disk, 8 of 4 MiB on S3), in buffers
 * reused from range to range,
 * and at most OPEN_LIMIT ranges are being opened (one worker task each) at once. Ranges rather
 * than whole packs are the unit of work so that fetching, decrypting and writing overlap.
 * @module
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describeError, IntegrityError, WorkerFailedError } from '../domain/errors.js';
import type { BlobId } from '../domain/ids.js';
import { packKey } from '../repository/layout.js';
import { forEachLimited, type Repository } from '../repository/repository.js';
import { Semaphore } from '../util/semaphore.js';
import type { TreeNode } from '../repository/tree.js';
import type { PartWrite, WholeFile } from '../workers/codec.js';
import { alreadyRestored, applyMetadata, createSymlink, FileWriter } from './file-writer.js';
import { findIncludes, inBatches, planPacks, walkItems, type ItemRuns, type PackPlan, type PlannedFile, type PlannedItem, type RestorePlan } from './plan.js';
import { RangeBuffers } from '../util/range-buffers.js';
import { verifyFile } from './verify.js';

export interface RestoreEvents {
  itemFailed?(path: string, reason: string): void;
  progress?(p: { filesDone: number; bytesDone: number; filesTotal: number; bytesTotal: number }): void;
}

export interface RestoreOptions {
  readonly target: string;
  readonly include?: readonly string[];
  readonly overwrite?: boolean;
  /** Re-read every restored file and check it against the snapshot. */
  readonly verify?: boolean;
  /** Pack ranges fetched and written at once (default: the storage's readsInFlight, 3 local, 8 on S3). */
  readonly concurrency?: number;
  /** Tree reads in flight while planning (default 16). */
  readonly treeConcurrency?: number;
  /** Files restored per batch (default RESTORE_BATCH_FILES; tests set a small one). */
  readonly batchFiles?: number;
  readonly events?: RestoreEvents;
}

export interface RestoreFailure {
  /** path inside the snapshot */
  readonly path: string;
  readonly reason: string;
  /** the damaged or missing storage object, when one is to blame */
  readonly object?: string;
}

export interface RestoreResult {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
  /** files found already restored (resume) */
  readonly skipped: number;
  /** bytes found intact in part files left by an interrupted restore (not fetched again) */
  readonly resumedBytes: number;
  readonly verifiedFiles: number;
  readonly verifiedBytes: number;
  readonly failures: readonly RestoreFailure[];
  /** planning, restoring, verifying, and all of it */
  readonly planMs: number;
  readonly restoreMs: number;
  readonly verifyMs: number;
  readonly durationMs: number;
}

/**
 * Blobs closer than this in a pack are fetched in one ranged read, of at most the storage's
 * readBytes (a blob larger than that is read alone). Each range in flight is held until a
 * worker has written its blobs (they are decrypted in place; only compressed ones pass through
 * the worker's reused scratch memory). Measured on the benchmark's restore from a local disk:
 * 3 ranges of 2 MiB were as fast as 4 of 4 MiB (within noise) for about 10 MiB less peak memory.
 */
const COALESCE_GAP = 256 * 1024;
/** Ranges being opened and written by worker threads at once (each one range, or one large blob). */
const OPEN_LIMIT = 3;
/** Verifications running at once. */
const VERIFY_CONCURRENCY = 4;
/** Existing files and part files looked at once, before a restore starts. */
const CHECK_CONCURRENCY = 16;
/**
 * Files restored together. The writer of each file, its blobs' index entries and the ranges
 * to fetch are held for one batch at a time, not for the whole snapshot: a restore of 200,000
 * small files held about 1.2 KB of them per file (716-754 MiB at the peak, restic 370). A
 * pack whose blobs serve files of two batches is read once per batch; the files of a
 * directory are backed up together, so few packs are.
 */
export const RESTORE_BATCH_FILES = 4096;

/**
 * What a restore takes its items from: a snapshot walked as it is restored (`restoreTree`),
 * or a plan made before (`restorePlan`).
 */
interface ItemSource {
  /** every item, each directory before what it holds, in runs (see walkItems) */
  items(): ItemRuns;
  /** the files again, for --verify */
  files(): AsyncIterable<PlannedFile> | Iterable<PlannedFile>;
  /** the totals progress reports, when known before the walk (else: what the walk has seen so far) */
  readonly totals?: { readonly files: number; readonly bytes: number };
}

/**
 * Restores a snapshot (or its `include` paths), walking its trees as it goes: the items are
 * restored a batch at a time as the walk finds them, and only the directories (for their
 * metadata, applied last) and symlinks are kept until the end. A plan of the whole snapshot
 * held about 500 bytes per file (200,000 files: 100 MB live on the main thread, and a heap
 * that V8 let grow to 260 MB between collections). --verify walks the trees a second time.
 */
export async function restoreTree(repo: Repository, rootTree: BlobId, opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  repo.codec.warmUp(); // the threads load their modules while the snapshot's trees are read
  const includes = opts.include ?? [];
  await findIncludes(repo, rootTree, includes); // an unknown path fails before anything is written
  const walk = () => walkItems(repo, rootTree, includes, { concurrency: opts.treeConcurrency });
  return restoreItems(repo, { items: walk, files: () => filesOf(walk()) }, opts, started);
}

/** Restores what a plan selected: a drill's sample, or all of a snapshot for a full drill. */
export function restorePlan(repo: Repository, plan: RestorePlan, opts: RestoreOptions): Promise<RestoreResult> {
  return restoreItems(repo, { items: () => [plan.order], files: () => plan.files, totals: { files: plan.files.length, bytes: plan.totalBytes } }, opts);
}

async function* filesOf(runs: AsyncIterable<readonly PlannedItem[]>): AsyncGenerator<PlannedFile> {
  for await (const run of runs) for (const item of run) if (item.node.type === 'file') yield item;
}

async function restoreItems(repo: Repository, source: ItemSource, opts: RestoreOptions, started = Date.now()): Promise<RestoreResult> {
  const target = path.resolve(opts.target);
  const failures: RestoreFailure[] = [];
  /** files among the failures: a restore's file count leaves them out */
  const failedFiles = new Set<string>();
  const fail = (p: string, reason: string, object?: string) => {
    failures.push(object === undefined ? { path: p, reason } : { path: p, reason, object });
    opts.events?.itemFailed?.(p, reason);
  };
  const failFile = (p: string, reason: string, object?: string) => {
    failedFiles.add(p);
    fail(p, reason, object);
  };
  const dest = (snapshotPath: string) => path.join(target, snapshotPath);

  // Directories this restore creates hold nothing yet: their files need no existence checks.
  const fresh = new Set<string>();
  if ((await fs.mkdir(target, { recursive: true })) !== undefined) fresh.add(target);
  const dirs: PlannedItem[] = [];
  const symlinks: PlannedItem[] = [];

  let filesSeen = 0;
  let bytesSeen = 0;
  let skipped = 0;
  let resumedBytes = 0;
  let filesDone = 0;
  let bytesDone = 0;
  let planMs: number | undefined;
  const progress = () =>
    opts.events?.progress?.({ filesDone, bytesDone, filesTotal: source.totals?.files ?? filesSeen, bytesTotal: source.totals?.bytes ?? bytesSeen });
  const finish = async (f: PlannedFile, w: FileWriter) => {
    try {
      await w.finish();
      filesDone++;
      progress();
    } catch (e) {
      w.fail(describeError(e));
    }
  };
  const opening = new Semaphore(OPEN_LIMIT);
  const concurrency = opts.concurrency ?? repo.storage.capabilities.readsInFlight;
  const rangeMax = repo.storage.capabilities.readBytes;
  const buffers = new RangeBuffers(rangeMax, concurrency);
  /** ranges being fetched and written, all batches together */
  const reading = new Semaphore(concurrency);

  const restoreBatch = async (batch: readonly PlannedFile[]): Promise<void> => {
    const writers = new Map<PlannedFile, FileWriter>();
    const present = new Map<PlannedFile, Set<number>>();
    await forEachLimited(batch, CHECK_CONCURRENCY, async (f) => {
      const final = dest(f.snapshotPath);
      const inFreshDir = fresh.has(path.dirname(final));
      const w = new FileWriter(final, f.node, inFreshDir);
      if (inFreshDir) {
        writers.set(f, w);
        return;
      }
      const existing = await alreadyRestored(final, f.node);
      if (existing === true && !opts.overwrite) {
        skipped++;
        filesDone++;
        return;
      }
      if (existing !== undefined && !opts.overwrite) {
        failFile(f.snapshotPath, 'exists and differs (use --overwrite to replace it)');
        return;
      }
      writers.set(f, w);
      const pieces = (f.node.content ?? []).map((id) => repo.index.lookup(id));
      if (pieces.length > 0 && pieces.every((b) => b !== undefined)) {
        const have = await w.resume(pieces, (b) => repo.blobId(b));
        if (have.size > 0) present.set(f, have);
        resumedBytes += w.resumedBytes;
      }
    });

    const { packs, unknown } = planPacks(repo, [...writers.keys()], (f) => present.get(f));
    // Until a first batch is planned the restore is planning; the later batches are planned
    // while ranges are being restored, and count as restoring (a drill reports its rate from it).
    planMs ??= Date.now() - started;
    for (const [f, id] of unknown) writers.get(f)!.fail(`blob ${id.slice(0, 8)} is not in the repository index`, 'index');
    for (const [f, w] of writers) if (w.complete) await finish(f, w); // empty files, and part files found complete

    const ranges = packs.flatMap((pack) => (repo.storage.capabilities.rangeReads ? coalesce(pack.blobs, rangeMax) : [pack.blobs]).map((blobs) => ({ pack, blobs })));
    const whole = wholeInOneRange(ranges);
    const sink: RangeSink = {
      writers,
      whole: (f) => whole.has(f) && !writers.get(f)!.started,
      written: async (f, w, bytes) => {
        bytesDone += bytes;
        if (w.complete) await finish(f, w);
      },
      restored: (w) => {
        w.restoredWhole();
        bytesDone += w.node.size ?? 0;
        filesDone++;
        progress();
      },
    };
    await forEachLimited(ranges, concurrency, ({ pack, blobs }) => reading.run(() => restoreRange(repo, pack, blobs, { opening, buffers }, sink)));

    for (const [f, w] of writers) {
      if (w.failed !== undefined) {
        failFile(f.snapshotPath, w.failed, w.failedObject);
        if (!w.keepPart) await w.discard();
      }
    }
  };

  // The walk hands the files over a batch at a time. Each batch's directories are created
  // before the batch is handed out, and the next batch is taken from the walk only then
  // (forEachLimited): a file's directory, which comes before it in the walk, always exists by
  // the time the file is looked at.
  const batchFiles = Math.max(1, opts.batchFiles ?? RESTORE_BATCH_FILES);
  async function* batches(): AsyncGenerator<PlannedFile[]> {
    for await (const items of inBatches(source.items(), batchFiles)) {
      const files: PlannedFile[] = [];
      for (const item of items) {
        if (item.node.type === 'dir') {
          dirs.push(item);
          const p = dest(item.snapshotPath);
          if ((await fs.mkdir(p, { recursive: true, mode: 0o700 })) !== undefined) fresh.add(p);
        } else if (item.node.type === 'file') {
          filesSeen++;
          bytesSeen += item.node.size ?? 0;
          files.push(item);
        } else {
          symlinks.push(item);
        }
      }
      yield files;
    }
  }
  // Two batches at a time: the next one is planned, and its first ranges fetched, while the
  // last ranges of the one before finish (one batch at a time left the reads idle at the end
  // of each: 200,000 small files took 11.6 s instead of 10.4).
  await forEachLimited(batches(), 2, restoreBatch);
  planMs ??= Date.now() - started; // no file to restore

  for (const l of symlinks) {
    await restoreSymlink(dest(l.snapshotPath), l.node, opts.overwrite ?? false).catch((e: unknown) =>
      fail(l.snapshotPath, describeError(e)),
    );
  }
  // Directories last, deepest first: creating entries changes a directory's mtime, and a
  // read-only mode would have stopped us creating them.
  for (const d of [...dirs].sort((a, b) => b.snapshotPath.length - a.snapshotPath.length)) {
    await applyMetadata(dest(d.snapshotPath), d.node).catch((e: unknown) => fail(d.snapshotPath, describeError(e)));
  }

  const restored = Date.now();

  let verifiedFiles = 0;
  let verifiedBytes = 0;
  if (opts.verify) {
    const failedBeforeVerifying = new Set(failedFiles);
    await forEachLimited(source.files(), VERIFY_CONCURRENCY, async (f) => {
      if (failedBeforeVerifying.has(f.snapshotPath)) return;
      const problem = await verifyFile(repo, dest(f.snapshotPath), f.node);
      if (problem) failFile(f.snapshotPath, `verify: ${problem}`);
      else {
        verifiedFiles++;
        verifiedBytes += f.node.size ?? 0;
      }
    });
  }

  const done = Date.now();
  return {
    files: filesSeen - failedFiles.size,
    dirs: dirs.length,
    symlinks: symlinks.length,
    bytes: bytesDone,
    skipped,
    resumedBytes,
    verifiedFiles,
    verifiedBytes,
    failures,
    planMs,
    restoreMs: restored - started - planMs,
    verifyMs: done - restored,
    durationMs: done - started,
  };
}

/** Where a range's blobs go, and what to do as they arrive. */
interface RangeSink {
  readonly writers: Map<PlannedFile, FileWriter>;
  /** a file a worker restores from start to finish: all its blobs are in one range, and no part file exists yet */
  whole(f: PlannedFile): boolean;
  /** pieces of a file finished here were written into its part file */
  written(f: PlannedFile, w: FileWriter, bytes: number): Promise<void>;
  /** a worker restored a whole file and renamed it into place */
  restored(w: FileWriter): void;
}

/** The files whose every needed blob is in a single range. */
function wholeInOneRange(ranges: readonly { blobs: PackPlan['blobs'] }[]): Set<PlannedFile> {
  const rangeOf = new Map<PlannedFile, number>();
  const split = new Set<PlannedFile>();
  ranges.forEach(({ blobs }, i) => {
    for (const b of blobs) {
      for (const { file } of b.targets) {
        const r = rangeOf.get(file);
        if (r === undefined) rangeOf.set(file, i);
        else if (r !== i) split.add(file);
      }
    }
  });
  return new Set([...rangeOf.keys()].filter((f) => !split.has(f)));
}

/** Which storage object an error blames: the one it names, else `fallback`; undefined for storage trouble. */
function blamed(e: unknown, fallback: string): string | undefined {
  if (e instanceof IntegrityError) return e.objectKey;
  const kind = (e as { kind?: string }).kind;
  return kind === 'not-found' || kind === 'invalid-range' ? fallback : undefined;
}

/**
 * Fetches one range of a pack and has a worker open each of its blobs and write it wherever
 * it is needed (workers/restore-task.ts): into the part files of files finished here, and
 * whole files the worker finishes itself. On storage that cannot read ranges, the range is
 * the whole pack.
 */
async function restoreRange(
  repo: Repository,
  pack: PackPlan,
  group: PackPlan['blobs'],
  { opening, buffers }: { opening: Semaphore; buffers: RangeBuffers },
  sink: RangeSink,
): Promise<void> {
  const { writers } = sink;
  const key = packKey(pack.packId);
  const live = (t: { file: PlannedFile }) => writers.get(t.file)!.failed === undefined;
  if (!group.some((b) => b.targets.some(live))) return;
  const first = group[0]!.blob;
  const last = group[group.length - 1]!.blob;
  let range: Buffer;
  let base: number;
  try {
    if (repo.storage.capabilities.rangeReads) {
      const length = last.offset + last.length - first.offset;
      range = await repo.storage.getRange(key, first.offset, length, buffers.take(length));
      base = first.offset;
    } else {
      range = await repo.storage.get(key);
      base = 0;
    }
  } catch (e) {
    const object = blamed(e, key);
    for (const b of group) {
      for (const t of b.targets) {
        const w = writers.get(t.file)!;
        w.fail(describeError(e), object);
        if (object === undefined) w.keepPart = true; // storage trouble: a later run resumes the part file
      }
    }
    return;
  }

  // part files of files finished here: created once, before their first piece is written
  const wanted = group.filter((b) => b.targets.some(live));
  const toPrepare = new Set(wanted.flatMap((b) => b.targets.filter((t) => live(t) && !sink.whole(t.file)).map((t) => writers.get(t.file)!)));
  await Promise.all([...toPrepare].map((w) => w.prepare().catch((e: unknown) => w.fail(describeError(e)))));

  const writes: PartWrite[] = [];
  const writeTargets: { file: PlannedFile; w: FileWriter; bytes: number }[] = [];
  const fileWriters: FileWriter[] = [];
  const pieces: { blob: number; offset: number }[][] = [];
  const wholeIndex = new Map<PlannedFile, number>();
  wanted.forEach(({ blob, targets }, i) => {
    for (const t of targets) {
      const w = writers.get(t.file)!;
      if (w.failed !== undefined) continue;
      if (toPrepare.has(w)) {
        writes.push({ blob: i, part: w.part, offset: t.offset });
        writeTargets.push({ file: t.file, w, bytes: blob.rawLength });
        continue;
      }
      let k = wholeIndex.get(t.file);
      if (k === undefined) {
        wholeIndex.set(t.file, (k = fileWriters.length));
        fileWriters.push(w);
        pieces.push([]);
      }
      pieces[k]!.push({ blob: i, offset: t.offset });
    }
  });
  const files: WholeFile[] = fileWriters.map((w, k) => w.wholeFile(pieces[k]!));

  let report;
  try {
    const done = await opening.run(() => repo.restorePackRange(pack.packId, range, base, wanted.map((b) => b.blob), { writes, files }));
    buffers.give(done.range);
    report = done.report;
  } catch (e) {
    if (e instanceof WorkerFailedError) throw e; // not this pack's fault: the restore stops, a re-run resumes
    for (const { targets } of wanted) for (const t of targets) writers.get(t.file)!.fail(describeError(e), blamed(e, key) ?? key);
    return;
  }
  report.files.forEach((err, k) => {
    const w = fileWriters[k]!;
    if (err === undefined) sink.restored(w);
    else w.fail(err.error, err.objectKey);
  });
  for (const [i, { file, w, bytes }] of writeTargets.entries()) {
    if (w.failed !== undefined) continue;
    const err = report.blobs[writes[i]!.blob] ?? report.writes[i];
    if (err !== undefined) {
      w.fail(err.error, err.objectKey);
      continue;
    }
    w.delivered();
    try {
      await sink.written(file, w, bytes);
    } catch (e) {
      w.fail(describeError(e));
    }
  }
}

function coalesce<T extends { blob: { offset: number; length: number } }>(blobs: readonly T[], rangeMax: number): T[][] {
  const groups: T[][] = [];
  for (const b of blobs) {
    const g = groups[groups.length - 1];
    const first = g?.[0];
    const prev = g?.[g.length - 1];
    const near = prev !== undefined && b.blob.offset - (prev.blob.offset + prev.blob.length) <= COALESCE_GAP;
    if (g && first && near && b.blob.offset + b.blob.length - first.blob.offset <= rangeMax) g.push(b);
    else groups.push([b]);
  }
  return groups;
}

async function restoreSymlink(p: string, node: TreeNode, overwrite: boolean): Promise<void> {
  const st = await fs.lstat(p).catch(() => undefined);
  if (st) {
    if (st.isSymbolicLink() && (await fs.readlink(p)) === node.target) return;
    if (!overwrite) throw new Error('exists and differs (use --overwrite to replace it)');
    await fs.rm(p, { force: true });
  }
  await createSymlink(p, node);
}
