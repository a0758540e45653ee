import type { Command } from 'commander';
import type { runRestore } from '../../app/restore.js';
import type { AuditSpec } from '../../app/audit.js';
import { withRepository } from '../../app/repo.js';

type RestoreSummary = Awaited<ReturnType<typeof runRestore>>;
import { IncompleteError, UsageError, VerificationFailedError } from '../../domain/errors.js';
import { formatBytes, formatDuration, formatRate } from '../../ui/format.js';
import { collect, repoOptions } from '../options.js';
import { printJson, println, warn } from '../output.js';

interface RestoreFlags {
  target?: string;
  include?: string[];
  verify?: boolean;
  overwrite?: boolean;
  json?: boolean;
  tar?: string;
}

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('restore a snapshot under a target directory (paths recreated as backed up)')
    .argument('<snapshot>', '"latest", a snapshot id or a unique prefix')
    .option('-t, --target <dir>', 'directory to restore into')
    .option('-i, --include <path>', 'restore only this path of the snapshot (repeatable)', collect)
    .option('--verify', 're-read every restored file and check it against the snapshot')
    .option('--overwrite', 'replace existing files that differ')
    .option('--tar <file>', 'write a tar archive instead ("-" = stdout), e.g. to pipe to another host')
    .option('--json', 'print a JSON summary')
    .action(async (ref: string, opts: RestoreFlags, cmd: Command) => {
      if (opts.tar !== undefined) {
        if (opts.target !== undefined) throw new UsageError('--tar and --target exclude each other');
        if (opts.verify) throw new UsageError('--verify re-reads restored files; with --tar every blob is authenticated as it is written');
        return (await import('./tar-output.js')).restoreTar(cmd, ref, { file: opts.tar, include: opts.include, overwrite: opts.overwrite, json: opts.json });
      }
      if (!opts.target) throw new UsageError('restore needs --target DIR (or --tar FILE)');
      const audit: AuditSpec<RestoreSummary> = {
        action: 'restore',
        what: { snapshot: ref, ...(opts.include ? { paths: opts.include } : {}), detail: opts.verify ? 'to a directory, verified' : 'to a directory' },
        after: (r) => ({ snapshot: r.snapshotId, counts: { files: r.files, bytes: r.bytes, failures: r.failures.length }, result: r.failures.length ? 'incomplete' : 'ok' }),
      };
      // The restorer loads while the repository is unlocked.
      const engine = () => import('../../app/restore.js');
      const r = await withRepository({ ...repoOptions(cmd, { preload: engine }), audit }, async (repo) =>
        (await engine()).runRestore(repo, { snapshot: ref, target: opts.target!, include: opts.include, verify: opts.verify, overwrite: opts.overwrite }),
      );
      if (opts.json) printJson(r);
      else {
        println(`restored snapshot ${r.snapshotId.slice(0, 8)} to ${opts.target}: ${r.files} file(s), ${r.dirs} dir(s), ${r.symlinks} link(s)`);
        println(`${formatBytes(r.bytes)} in ${formatDuration(r.durationMs)} (${formatRate(r.bytes, r.durationMs)})${r.skipped ? `, ${r.skipped} already restored` : ''}`);
        if (opts.verify) println(`verified: ${r.verifiedFiles} file(s) identical to the snapshot`);
      }
      for (const d of r.damagedIndexes) warn(`damaged, skipped: ${d.message} (run "coffre check")`);
      if (r.failures.length) {
        for (const f of r.failures) warn(`not restored: ${f.path}: ${f.reason}`);
        // Damaged or missing repository data, or a restored file that differs: exit 4. Other
        // failures (an existing file kept, the target disk, storage trouble): exit 3.
        const damaged = r.failures.filter((f) => f.object !== undefined || f.reason.startsWith('verify:'));
        if (damaged.length) throw new VerificationFailedError(`${damaged.length} of ${r.failures.length} item(s) not restored because of damaged data`);
        throw new IncompleteError(`${r.failures.length} item(s) could not be restored`, r.failures.map((f) => f.path));
      }
    });
}
