/**
 * A repository check as the agent schedules it: storage opened read-only, no catalog (a
 * check judges the repository itself, not a local copy of it).
 * @module
 */
import { checkRepository, type CheckOptions, type CheckResult } from '../checker/checker.js';
import { withRepository, type RepoOptions } from './repo.js';

export function runCheck(opts: RepoOptions, check: CheckOptions): Promise<CheckResult> {
  return withRepository({ ...opts, readOnly: true, catalog: 'off' }, (repo) => checkRepository(repo, check));
}
