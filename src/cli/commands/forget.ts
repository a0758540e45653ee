import type { Command } from 'commander';
import { forgetSnapshots, planForget } from '../../app/forget.js';
import { withRepository } from '../../app/repo.js';
import { UsageError } from '../../domain/errors.js';
import type { RetentionPolicy } from '../../retention/policy.js';
import { repoOptions } from '../options.js';
import { printJson, println } from '../output.js';
import { nonNegativeInt } from './init.js';

interface ForgetFlags {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `coffre forget`: apply a retention policy by deleting snapshot objects. The data they
 * alone referenced stays (there is no prune yet), and deleting needs credentials that may
 * delete: an agent's append-only credentials get a clear refusal from the storage.
 */
export function registerForget(program: Command): void {
  const cmd = program
    .command('forget')
    .description('forget snapshots a retention policy does not keep (per host and paths; the newest always stays)')
    .option('-n, --dry-run', 'only say what would be forgotten')
    .option('--json', 'print the plan as JSON');
  cmd.option('--keep-last <n>', 'keep the N newest snapshots', nonNegativeInt('--keep-last'));
  for (const [period, unit] of [['hourly', 'hours'], ['daily', 'days'], ['weekly', 'ISO weeks'], ['monthly', 'months'], ['yearly', 'years']]) {
    cmd.option(`--keep-${period} <n>`, `keep the newest snapshot of each of the last N ${unit} that have one`, nonNegativeInt(`--keep-${period}`));
  }
  cmd.action(async (opts: ForgetFlags, c: Command) => {
    const policy: RetentionPolicy = {
      keepLast: opts.keepLast,
      keepHourly: opts.keepHourly,
      keepDaily: opts.keepDaily,
      keepWeekly: opts.keepWeekly,
      keepMonthly: opts.keepMonthly,
      keepYearly: opts.keepYearly,
    };
    if (Object.values(policy).every((v) => !v)) throw new UsageError('forget needs at least one --keep-* rule with N > 0');
    const { plan, forgotten } = await withRepository(repoOptions(c, { catalog: 'write', command: 'forget' }), async (repo, local) => {
      const plan = await planForget(repo, policy);
      const ids = plan.forget.map((d) => d.snapshot.id);
      const forgotten = opts.dryRun || ids.length === 0 ? 0 : await forgetSnapshots(repo, ids, local?.catalog);
      return { plan, forgotten };
    });
    if (opts.json) {
      return printJson({
        keep: plan.keep.map((d) => ({ id: d.snapshot.id, time: d.snapshot.time, host: d.snapshot.host, reasons: d.reasons })),
        forget: plan.forget.map((d) => ({ id: d.snapshot.id, time: d.snapshot.time, host: d.snapshot.host })),
        forgotten,
      });
    }
    for (const d of plan.keep) println(`keep    ${d.snapshot.shortId}  ${d.snapshot.time.slice(0, 19).replace('T', ' ')} UTC  ${d.reasons.join(', ')}`);
    for (const d of plan.forget) println(`${opts.dryRun ? 'would forget' : 'forget '} ${d.snapshot.shortId}  ${d.snapshot.time.slice(0, 19).replace('T', ' ')} UTC`);
    println(`${plan.keep.length} kept, ${opts.dryRun ? `${plan.forget.length} would be forgotten` : `${forgotten} forgotten`} (their data stays until a prune)`);
  });
}
