/**
 * `coffre restore` and `coffre dump`: a snapshot, or some of its paths, under a target
 * directory, as a tar stream, or one file's bytes.
 * @module
 */
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { IncompleteError, UsageError } from '../domain/errors.js';
import type { Repository } from '../repository/repository.js';
import { findIncludes, walkItems } from '../restorer/plan.js';
import { restoreTree, type RestoreOptions, type RestoreResult } from '../restorer/restorer.js';
import type { TarOptions, TarResult } from '../restorer/tar.js';

export interface RestoreRequest extends RestoreOptions {
  /** "latest", a snapshot id or a unique prefix of one */
  readonly snapshot: string;
}

export async function runRestore(
  repo: Repository,
  req: RestoreRequest,
): Promise<RestoreResult & { snapshotId: string; damagedIndexes: Repository['damagedIndexes'] }> {
  repo.requireFullKey('snapshots to restore');
  const { id, snapshot } = await repo.findSnapshot(req.snapshot);
  const result = await restoreTree(repo, snapshot.tree, req);
  // Index objects skipped as damaged: the files they alone indexed failed with "not in the index".
  return { ...result, snapshotId: id, damagedIndexes: [...repo.damagedIndexes] };
}

export interface TarRequest extends TarOptions {
  readonly snapshot: string;
  readonly include?: readonly string[];
  readonly out: Writable;
}

/** The snapshot (or the included paths) as a tar archive written to `out`. */
export async function runRestoreTar(repo: Repository, req: TarRequest): Promise<TarResult & { snapshotId: string }> {
  repo.requireFullKey('snapshots to restore');
  const { id, snapshot } = await repo.findSnapshot(req.snapshot);
  const include = req.include ?? [];
  await findIncludes(repo, snapshot.tree, include); // an unknown path fails before the archive starts
  const { writeTar } = await streaming();
  const result = await writeTar(repo, walkItems(repo, snapshot.tree, include), req.out, req);
  return { ...result, snapshotId: id };
}

export interface DumpRequest {
  readonly snapshot: string;
  /** the path as backed up, e.g. /srv/data/a.csv */
  readonly path: string;
  readonly out: Writable;
  /** end `out` when done (not for process.stdout) */
  readonly end?: boolean;
}

/** One file's bytes; a directory is written as a tar archive of what it holds. */
export async function runDump(repo: Repository, req: DumpRequest): Promise<{ snapshotId: string; type: 'file' | 'dir'; bytes: number }> {
  repo.requireFullKey('snapshots to restore');
  const { id, snapshot } = await repo.findSnapshot(req.snapshot);
  const want = path.posix.resolve('/', req.path);
  const item = (await findIncludes(repo, snapshot.tree, [want])).get(want); // none for "/", the snapshot itself
  if (!item) throw new UsageError(`${want} is not in snapshot ${id.slice(0, 8)}`);
  if (item.node.type === 'symlink') throw new UsageError(`${want} is a symbolic link (to ${JSON.stringify(item.node.target ?? '')}): nothing to dump`);
  const { writeTar, writeFileContent } = await streaming();
  if (item.node.type === 'dir') {
    const r = await writeTar(repo, walkItems(repo, snapshot.tree, [want]), req.out, { end: req.end });
    if (r.failures.length) throw new IncompleteError(`${r.failures.length} file(s) left out of the archive`, r.failures.map((f) => `${f.path}: ${f.reason}`));
    return { snapshotId: id, type: 'dir', bytes: r.archiveBytes };
  }
  return { snapshotId: id, type: 'file', bytes: await writeFileContent(repo, item, req.out, { end: req.end }) };
}

/**
 * The tar writer and the file dumper, loaded only by the commands that stream: a restore to
 * disk does not pay for tar-stream (about 0.7 MiB of heap and its load time).
 */
async function streaming(): Promise<typeof import('../restorer/tar.js') & typeof import('../restorer/dump.js')> {
  const [tar, dump] = await Promise.all([import('../restorer/tar.js'), import('../restorer/dump.js')]);
  return { ...tar, ...dump };
}
