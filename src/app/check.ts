/**
 * A repository check as the agent schedules it: storage opened read-only, no catalog (a
 * check judges the repository itself, not a local copy of it).
 * @module
 */
import { checkRepository, type CheckOptions, type CheckResult } from '../checker/checker.js';
import { withRepository, type RepoOptions } from './repo.js';

export function runCheck(opts: RepoOptions, check: CheckOptions): Promise<CheckResult> {
  const detail = check.readData === true ? 'read all data' : check.readData ? 'read a subset of the data' : 'structure';
  return withRepository(
    {
      ...opts,
      readOnly: true,
      catalog: 'off',
      audit: {
        action: 'check',
        what: { detail },
        after: (r) => ({
          counts: { snapshots: r.snapshots, packs: r.packs, packsRead: r.packsRead, errors: r.findings.filter((f) => f.severity === 'error').length },
          result: r.ok ? 'ok' : 'failed',
        }),
      },
    },
    (repo) => checkRepository(repo, check),
  );
}
