/**
 * A repository check as the agent schedules it: storage opened read-only, no catalog (a
 * check judges the repository itself, not a local copy of it).
 * @module
 */
import { checkRepository, type CheckOptions, type CheckResult } from '../checker/checker.js';
import { withRepository, type RepoOptions } from './repo.js';
import type { IndexId } from '../domain/ids.js';
import type { IndexContent } from '../repository/index-file.js';

export function runCheck(opts: RepoOptions, check: CheckOptions): Promise<CheckResult> {
  const detail = check.readData === true ? 'read all data' : check.readData ? 'read a subset of the data' : 'structure';
  // The open reads every index object into memory (no catalog): the check takes them from
  // there rather than download the whole index a second time.
  const indexesRead = new Map<IndexId, IndexContent>();
  return withRepository(
    {
      ...opts,
      readOnly: true,
      catalog: 'off',
      onIndexRead: (id, content) => indexesRead.set(id, content),
      audit: {
        action: 'check',
        what: { detail },
        after: (r) => ({
          counts: { snapshots: r.snapshots, packs: r.packs, packsRead: r.packsRead, errors: r.findings.filter((f) => f.severity === 'error').length },
          result: r.ok ? 'ok' : 'failed',
        }),
      },
    },
    (repo) => checkRepository(repo, { ...check, indexesRead }),
  );
}
