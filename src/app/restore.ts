/**
 * `coffre restore`: a snapshot, or some of its paths, under a target directory.
 * @module
 */
import type { Repository } from '../repository/repository.js';
import { restoreTree, type RestoreOptions, type RestoreResult } from '../restorer/restorer.js';

export interface RestoreRequest extends RestoreOptions {
  /** "latest", a snapshot id or a unique prefix of one */
  readonly snapshot: string;
}

export async function runRestore(repo: Repository, req: RestoreRequest): Promise<RestoreResult & { snapshotId: string }> {
  const { id, snapshot } = await repo.findSnapshot(req.snapshot);
  const result = await restoreTree(repo, snapshot.tree, req);
  return { ...result, snapshotId: id };
}
