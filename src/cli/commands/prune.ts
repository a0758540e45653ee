import type { Command } from 'commander';
import { hostname } from 'node:os';
import type { AuditSpec } from '../../app/audit.js';
import { extendLocksIfDue } from '../../app/lock-extension.js';
import { withRepository } from '../../app/repo.js';
import { UsageError } from '../../domain/errors.js';
import { prune, type PruneReport } from '../../prune/prune.js';
import { durationMs, parseDuration } from '../../retention/policy.js';
import { formatBytes } from '../../ui/format.js';
import { repoOptions } from '../options.js';
import { printJson, println, warn } from '../output.js';

export interface PruneFlags {
  grace: string;
  repackThreshold: string;
  dryRun?: boolean;
  json?: boolean;
}

export const DEFAULT_GRACE = '2d';
export const DEFAULT_REPACK_THRESHOLD = '50';

/** Adds prune's options to a command (`prune`, and `forget --prune`). */
export function pruneOptions(cmd: Command): Command {
  return cmd
    .option('--grace <duration>', 'how long a plan waits before its packs are deleted: longer than any backup runs (units d, h, s…)', DEFAULT_GRACE)
    .option('--repack-threshold <percent>', 'repack a pack once at least this share of its bytes is unused (100 = never)', DEFAULT_REPACK_THRESHOLD);
}

export function parsePruneFlags(opts: PruneFlags): { graceMs: number; repackThreshold: number } {
  let graceMs: number;
  try {
    graceMs = durationMs(parseDuration(opts.grace));
  } catch (e) {
    throw new UsageError(`--grace: ${(e as Error).message}`);
  }
  if (!/^\d+(\.\d+)?$/.test(opts.repackThreshold) || Number(opts.repackThreshold) <= 0 || Number(opts.repackThreshold) > 100) {
    throw new UsageError(`--repack-threshold: expected a percentage in (0, 100], got "${opts.repackThreshold}"`);
  }
  return { graceMs, repackThreshold: Number(opts.repackThreshold) / 100 };
}

/**
 * `coffre prune`: delete what no snapshot references, in two phases separated by a grace
 * period (src/prune/prune.ts). Needs credentials that may delete: run it from an
 * administration host, never with an agent's append-only credentials.
 */
export function registerPrune(program: Command): void {
  const cmd = program
    .command('prune')
    .description('delete packs no snapshot uses: plan now, delete in a later run once the grace period has passed')
    .option('-n, --dry-run', 'only say what would be deleted and rewritten')
    .option('--json', 'print the report as JSON');
  pruneOptions(cmd).action(async (opts: PruneFlags, c: Command) => {
    const report = await runPrune(c, opts);
    if (opts.json) return printJson(report);
    printPruneReport(report);
  });
}

export type PruneRun = PruneReport & { readonly locksExtended?: { readonly objects: number; readonly skipped: number; readonly until: string } };

/**
 * Prune, then (on an Object Lock repository, when due) the retention extension: run daily
 * from the admin host, prune is also the scheduled maintenance job that keeps what
 * snapshots use locked while planned objects expire (src/app/lock-extension.ts).
 */
/** Below this, the grace period no longer covers a backup running elsewhere: said on stderr. */
const SHORT_GRACE_MS = 3_600_000;

export async function runPrune(c: Command, opts: PruneFlags): Promise<PruneRun> {
  const parsed = parsePruneFlags(opts);
  if (parsed.graceMs < SHORT_GRACE_MS) {
    // Allowed (an emergency, a repository no agent writes to), but the grace period is the
    // only thing that keeps a plan from deleting packs a backup running elsewhere has just
    // counted on: say so, every time.
    warn(`--grace ${opts.grace}: a backup running elsewhere while this prune deletes may lose packs it counts on (default ${DEFAULT_GRACE}; stop the agents first)`);
  }
  const audit: AuditSpec<PruneReport> = {
    action: 'prune',
    what: { detail: `${opts.dryRun ? 'dry run, ' : ''}grace ${opts.grace}, repack threshold ${opts.repackThreshold}%` },
    after: (r) => ({
      counts: {
        packsDeleted: r.deleted.packs,
        bytesDeleted: r.deleted.bytes,
        indexesDeleted: r.deleted.indexes,
        plansCarriedOut: r.deleted.plans,
        packsPlanned: r.planned?.deletePacks ?? 0,
        packsToRepack: r.planned?.repackPacks ?? 0,
      },
    }),
  };
  return withRepository({ ...repoOptions(c, { catalog: 'write', command: 'prune' }), audit }, async (repo, local) => {
    const report = await prune(repo, { ...parsed, dryRun: opts.dryRun, host: hostname(), progress: (m) => warn(m) });
    const ext = !opts.dryRun && local?.catalog ? await extendLocksIfDue(repo, local.catalog) : undefined;
    return ext ? { ...report, locksExtended: { objects: ext.objects, skipped: ext.skipped, until: ext.until.toISOString() } } : report;
  });
}

export function printPruneReport(r: PruneRun): void {
  const would = r.dryRun ? 'would ' : '';
  println(`${r.snapshots} snapshot(s); ${r.storedPacks} pack(s), ${formatBytes(r.storedBytes)} stored`);
  if (r.deleted.plans > 0) {
    println(`plans past their grace period: ${r.deleted.plans}; ${would}delete ${r.deleted.packs} pack(s) (${formatBytes(r.deleted.bytes)}) and ${r.deleted.indexes} index object(s)`);
  }
  if (r.keptNeeded > 0) println(`${r.keptNeeded} planned pack(s) are used again by a newer snapshot: kept`);
  for (const w of r.waitingForLock) println(`waiting for Object Lock: ${w.key} is retained until ${w.until}`);
  for (const p of r.pending) println(`plan ${p.id.slice(0, 8)} (${p.packs} pack(s), ${formatBytes(p.bytes)}) waits until ${p.dueAt}`);
  if (r.planned) {
    const p = r.planned;
    println(
      `${r.dryRun ? 'would plan' : `planned ${p.id?.slice(0, 8)}`}: ${p.deletePacks} unused pack(s) to delete, ${p.repackPacks} to repack ` +
        `(${formatBytes(p.rewriteBytes)} to rewrite); ${formatBytes(p.freeBytes)} freed once deleted, not before ${p.dueAt}`,
    );
  } else if (r.pending.length === 0 && r.deleted.plans === 0) {
    println('nothing to prune');
  }
  if (r.locksExtended) {
    println(`Object Lock retention extended to ${r.locksExtended.until} for ${r.locksExtended.objects} object(s) in use; ${r.locksExtended.skipped} planned for deletion left to expire`);
  }
  if (r.missingBlobs > 0) println(`warning: snapshots reference ${r.missingBlobs} data blob(s) no index object names; run "coffre check"`);
}
