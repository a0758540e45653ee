/**
 * Retention applied to a repository: which snapshots a policy would forget, and forgetting
 * them (deleting their snapshot objects). Only snapshot objects go: the data they alone
 * referenced stays until a prune, which runs elsewhere with other credentials (DESIGN
 * invariant 6). Deleting is a privileged act: an agent whose credentials cannot delete (the
 * recommended setup) gets a storage 'permission' error here.
 * @module
 */
import type { Catalog } from '../catalog/catalog.js';
import type { SnapshotId } from '../domain/ids.js';
import { snapshotKey } from '../repository/layout.js';
import type { Repository } from '../repository/repository.js';
import { guardCleanSnapshots } from '../retention/clean-guard.js';
import { planRetention, type RetentionOptions, type RetentionPlan, type RetentionPolicy } from '../retention/policy.js';
import { acknowledgedSnapshots } from './anomaly.js';
import { toListing, type SnapshotListing } from './browse.js';

/**
 * The policy's plan, guarded: while a suspect snapshot is not acknowledged, it and the newest
 * `keepClean` clean snapshots before it stay whatever the policy says (clean-guard.ts).
 */
export async function planForget(
  repo: Repository,
  policy: RetentionPolicy,
  opts: RetentionOptions & { keepClean?: number } = {},
): Promise<RetentionPlan<SnapshotListing>> {
  const plan = planRetention((await repo.snapshots()).map(toListing), policy, opts);
  return guardCleanSnapshots(plan, await acknowledgedSnapshots(repo), opts.keepClean);
}

/** Deletes the snapshot objects; returns how many were deleted. */
export async function forgetSnapshots(repo: Repository, ids: readonly string[], catalog?: Catalog): Promise<number> {
  for (const id of ids) await repo.storage.delete(snapshotKey(id as SnapshotId));
  catalog?.objects.retainSnapshots(await repo.listSnapshotIds());
  return ids.length;
}
