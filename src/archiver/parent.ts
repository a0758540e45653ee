/**
 * The parent of a new snapshot: the newest one taken on the same host of the same paths.
 * It is only used for comparison (new / changed / unmodified); nothing depends on it for
 * correctness.
 * @module
 */
import type { Repository, SnapshotEntry } from '../repository/repository.js';

export async function findParent(repo: Repository, host: string, paths: readonly string[]): Promise<SnapshotEntry | undefined> {
  const key = JSON.stringify([...paths].sort());
  const all = await repo.snapshots();
  for (let i = all.length - 1; i >= 0; i--) {
    const s = all[i]!;
    if (s.snapshot.host === host && JSON.stringify([...s.snapshot.paths].sort()) === key) return s;
  }
  return undefined;
}
