import type { Command } from 'commander';
import { forgetSnapshots, planForget } from '../../app/forget.js';
import type { AuditSpec } from '../../app/audit.js';
import { withRepository } from '../../app/repo.js';
import { UsageError } from '../../domain/errors.js';
import { FLOOR_ENV, retentionFloorDays } from '../../retention/floor.js';
import { parseDuration, type RetentionDecision, type RetentionPlan, type RetentionPolicy } from '../../retention/policy.js';
import type { SnapshotListing } from '../../app/browse.js';
import { collect, repoOptions } from '../options.js';
import { printJson, println } from '../output.js';
import { nonNegativeInt } from '../options.js';
import { printPruneReport, pruneOptions, runPrune } from './prune.js';

interface ForgetFlags {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: string;
  keepTag?: string[];
  dryRun?: boolean;
  json?: boolean;
  prune?: boolean;
  grace: string;
  repackThreshold: string;
}

/**
 * `coffre forget`: apply a retention policy by deleting snapshot objects. The data they
 * alone referenced stays until `coffre prune`, and deleting needs credentials that may
 * delete: an agent's append-only credentials get a clear refusal from the storage. The
 * retention floor (COFFRE_RETENTION_FLOOR_DAYS) overrules every flag.
 */
export function registerForget(program: Command): void {
  const cmd = program
    .command('forget')
    .description('forget snapshots a retention policy does not keep (per host and paths; the newest always stays)')
    .option('-n, --dry-run', 'only say what would be kept, and why, and what forgotten')
    .option('--json', 'print the plan as JSON');
  cmd.option('--keep-last <n>', 'keep the N newest snapshots', nonNegativeInt('--keep-last'));
  for (const [period, unit] of [['hourly', 'hours'], ['daily', 'days'], ['weekly', 'ISO weeks'], ['monthly', 'months'], ['yearly', 'years']]) {
    cmd.option(`--keep-${period} <n>`, `keep the newest snapshot of each of the last N ${unit} that have one`, nonNegativeInt(`--keep-${period}`));
  }
  cmd.option('--keep-within <duration>', 'keep every snapshot less than this older than the newest of its group (e.g. 2d, 36h, 1y6m)');
  cmd.option('--keep-tag <tag>', 'keep every snapshot with this tag (repeatable)', collect);
  cmd.option('--prune', 'then run "coffre prune" (with --grace and --repack-threshold)');
  pruneOptions(cmd);
  cmd.action(async (opts: ForgetFlags, c: Command) => {
    if (opts.keepWithin !== undefined) {
      try {
        parseDuration(opts.keepWithin);
      } catch (e) {
        throw new UsageError(`--keep-within: ${(e as Error).message}`);
      }
    }
    const policy: RetentionPolicy = {
      keepLast: opts.keepLast,
      keepHourly: opts.keepHourly,
      keepDaily: opts.keepDaily,
      keepWeekly: opts.keepWeekly,
      keepMonthly: opts.keepMonthly,
      keepYearly: opts.keepYearly,
      keepWithin: opts.keepWithin,
      keepTags: opts.keepTag,
    };
    // A rule counts when it keeps something: N > 0, a duration, or at least one tag.
    const given = (v: unknown) => Boolean(v) && !(Array.isArray(v) && v.length === 0);
    if (!Object.values(policy).some(given)) {
      throw new UsageError('forget needs at least one --keep-* rule with N > 0');
    }
    const floorDays = retentionFloorDays(undefined);
    const rules = Object.entries(policy)
      .filter(([, v]) => given(v))
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.length : String(v)}`)
      .join(' ');
    const audit: AuditSpec<{ plan: RetentionPlan<SnapshotListing>; forgotten: number }> = {
      action: 'forget',
      what: { detail: `${opts.dryRun ? 'dry run: ' : ''}${rules}` },
      after: (r) => ({ counts: { kept: r.plan.keep.length, forgotten: r.forgotten, planned: r.plan.forget.length } }),
    };
    const { plan, forgotten } = await withRepository({ ...repoOptions(c, { catalog: 'write', command: 'forget' }), audit }, async (repo, local) => {
      const plan = await planForget(repo, policy, { floorDays });
      const ids = plan.forget.map((d) => d.snapshot.id);
      const forgotten = opts.dryRun || ids.length === 0 ? 0 : await forgetSnapshots(repo, ids, local?.catalog);
      return { plan, forgotten };
    });
    const brief = (d: RetentionDecision<SnapshotListing>) => ({ id: d.snapshot.id, time: d.snapshot.time, host: d.snapshot.host, paths: d.snapshot.paths, reasons: d.reasons });
    const pruned = opts.prune ? await runPrune(c, { grace: opts.grace, repackThreshold: opts.repackThreshold, dryRun: opts.dryRun }) : undefined;
    if (opts.json) {
      return printJson({
        ...(pruned ? { prune: pruned } : {}),
        keep: plan.keep.map(brief),
        forget: plan.forget.map(brief),
        floor: { days: plan.floor.days, protected: plan.floor.protected.map((d) => d.snapshot.id) },
        forgotten,
        dryRun: Boolean(opts.dryRun),
      });
    }
    const when = (d: RetentionDecision<SnapshotListing>) => `${d.snapshot.time.slice(0, 19).replace('T', ' ')} UTC  ${d.snapshot.host}  ${d.snapshot.paths.join(' ')}`;
    for (const d of plan.keep) println(`keep          ${d.snapshot.shortId}  ${when(d)}  because: ${d.reasons.join(', ')}`);
    for (const d of plan.forget) println(`${opts.dryRun ? 'would forget ' : 'forgot       '} ${d.snapshot.shortId}  ${when(d)}  (no rule keeps it)`);
    if (plan.floor.protected.length > 0) {
      println(`retention floor (${FLOOR_ENV}=${plan.floor.days}): ${plan.floor.protected.length} snapshot(s) the policy would forget are kept, being younger than ${plan.floor.days} days`);
    }
    println(`${plan.keep.length} kept, ${opts.dryRun ? `${plan.forget.length} would be forgotten` : `${forgotten} forgotten`} (their data stays until "coffre prune")`);
    if (pruned) printPruneReport(pruned);
  });
}
