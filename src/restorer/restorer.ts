/**
 * Restoring a snapshot (or part of it) under a target directory. Paths are recreated as
 * they were backed up (/srv/data/a → TARGET/srv/data/a). Every pack is fetched once —
 * only the byte ranges holding needed blobs — and several packs at a time; blobs are
 * authenticated and checked against their ids before they are written.
 *
 * A damaged or missing object fails only the files that need it: the rest is restored,
 * and the failed files are reported by name. Existing files are kept unless `overwrite`;
 * a file already restored identically (same size and mtime) is skipped, which is what
 * makes an interrupted restore resumable.
 * @module
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describeError } from '../domain/errors.js';
import type { BlobId } from '../domain/ids.js';
import { packKey } from '../repository/layout.js';
import { forEachLimited, type Repository } from '../repository/repository.js';
import type { TreeNode } from '../repository/tree.js';
import { alreadyRestored, applyMetadata, createSymlink, FileWriter } from './file-writer.js';
import { planItems, planPacks, type PackPlan, type PlannedFile } from './plan.js';
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
  /** Packs fetched at once (default 4). */
  readonly concurrency?: number;
  readonly events?: RestoreEvents;
}

export interface RestoreResult {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
  /** files found already restored (resume) */
  readonly skipped: number;
  readonly verifiedFiles: number;
  readonly failures: readonly { path: string; reason: string }[];
  readonly durationMs: number;
}

/** Blobs closer than this in a pack are fetched in one ranged read. */
const COALESCE_GAP = 256 * 1024;

export async function restoreTree(repo: Repository, rootTree: BlobId, opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const target = path.resolve(opts.target);
  const plan = await planItems(repo, rootTree, opts.include ?? []);
  const failures: { path: string; reason: string }[] = [];
  const fail = (p: string, reason: string) => {
    failures.push({ path: p, reason });
    opts.events?.itemFailed?.(p, reason);
  };
  const dest = (snapshotPath: string) => path.join(target, snapshotPath);

  await fs.mkdir(target, { recursive: true });
  for (const d of plan.dirs) await fs.mkdir(dest(d.snapshotPath), { recursive: true, mode: 0o700 });

  const writers = new Map<PlannedFile, FileWriter>();
  let skipped = 0;
  for (const f of plan.files) {
    const final = dest(f.snapshotPath);
    const existing = await alreadyRestored(final, f.node);
    if (existing === true && !opts.overwrite) {
      skipped++;
      continue;
    }
    if (existing !== undefined && !opts.overwrite) {
      fail(f.snapshotPath, 'exists and differs (use --overwrite to replace it)');
      continue;
    }
    writers.set(f, new FileWriter(final, f.node));
  }

  let filesDone = skipped;
  let bytesDone = 0;
  const progress = () =>
    opts.events?.progress?.({ filesDone, bytesDone, filesTotal: plan.files.length, bytesTotal: plan.totalBytes });
  const finish = async (f: PlannedFile, w: FileWriter) => {
    try {
      await w.finish();
      filesDone++;
      progress();
    } catch (e) {
      w.failed = describeError(e);
    }
  };

  const { packs, unknown } = planPacks(repo, [...writers.keys()]);
  for (const [f, id] of unknown) writers.get(f)!.failed = `blob ${id.slice(0, 8)} is not in the repository index`;
  for (const [f, w] of writers) if (w.complete) await finish(f, w); // empty files

  await forEachLimited(packs, opts.concurrency ?? 4, async (pack) => {
    await restorePack(repo, pack, writers, async (f, w, bytes) => {
      bytesDone += bytes;
      if (w.complete) await finish(f, w);
    });
  });

  for (const [f, w] of writers) {
    if (w.failed !== undefined) {
      fail(f.snapshotPath, w.failed);
      await w.discard();
    }
  }
  for (const l of plan.symlinks) {
    await restoreSymlink(dest(l.snapshotPath), l.node, opts.overwrite ?? false).catch((e: unknown) =>
      fail(l.snapshotPath, describeError(e)),
    );
  }
  // Directories last, deepest first: creating entries changes a directory's mtime, and a
  // read-only mode would have stopped us creating them.
  for (const d of [...plan.dirs].sort((a, b) => b.snapshotPath.length - a.snapshotPath.length)) {
    await applyMetadata(dest(d.snapshotPath), d.node).catch((e: unknown) => fail(d.snapshotPath, describeError(e)));
  }

  let verifiedFiles = 0;
  if (opts.verify) {
    const failed = new Set(failures.map((f) => f.path));
    for (const f of plan.files) {
      if (failed.has(f.snapshotPath)) continue;
      const problem = await verifyFile(repo, dest(f.snapshotPath), f.node);
      if (problem) fail(f.snapshotPath, `verify: ${problem}`);
      else verifiedFiles++;
    }
  }

  const failedPaths = new Set(failures.map((f) => f.path));
  return {
    files: plan.files.filter((f) => !failedPaths.has(f.snapshotPath)).length,
    dirs: plan.dirs.length,
    symlinks: plan.symlinks.length,
    bytes: bytesDone,
    skipped,
    verifiedFiles,
    failures,
    durationMs: Date.now() - started,
  };
}

type Delivered = (f: PlannedFile, w: FileWriter, bytes: number) => Promise<void>;

/** Fetches the needed ranges of one pack and writes each blob wherever it is needed. */
async function restorePack(repo: Repository, pack: PackPlan, writers: Map<PlannedFile, FileWriter>, delivered: Delivered): Promise<void> {
  const live = (t: { file: PlannedFile }) => writers.get(t.file)!.failed === undefined;
  for (const group of coalesce(pack.blobs)) {
    if (!group.some((b) => b.targets.some(live))) continue;
    const first = group[0]!.blob;
    const last = group[group.length - 1]!.blob;
    let range: Buffer;
    try {
      range = await repo.storage.getRange(packKey(pack.packId), first.offset, last.offset + last.length - first.offset);
    } catch (e) {
      for (const b of group) for (const t of b.targets) writers.get(t.file)!.failed ??= describeError(e);
      continue;
    }
    // Open every blob of the range at once: worker round trips overlap instead of queueing.
    await Promise.all(
      group.map(async ({ blob, targets }) => {
        const sealed = range.subarray(blob.offset - first.offset, blob.offset - first.offset + blob.length);
        let raw: Buffer;
        try {
          raw = await repo.openBlob(blob, sealed);
        } catch (e) {
          for (const t of targets) writers.get(t.file)!.failed ??= describeError(e);
          return;
        }
        for (const t of targets) {
          const w = writers.get(t.file)!;
          if (w.failed !== undefined) continue;
          try {
            await w.write(t.offset, raw);
            await delivered(t.file, w, raw.length);
          } catch (e) {
            w.failed ??= describeError(e);
          }
        }
      }),
    );
  }
}

function coalesce<T extends { blob: { offset: number; length: number } }>(blobs: readonly T[]): T[][] {
  const groups: T[][] = [];
  for (const b of blobs) {
    const g = groups[groups.length - 1];
    const prev = g?.[g.length - 1];
    if (g && prev && b.blob.offset - (prev.blob.offset + prev.blob.length) <= COALESCE_GAP) g.push(b);
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
