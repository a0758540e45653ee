import type { Command } from 'commander';
import type { AuditSpec } from '../../app/audit.js';
import type { runBackup } from '../../app/backup.js';
import { withRepository } from '../../app/repo.js';
import { IncompleteError } from '../../domain/errors.js';
import { formatBytes, formatDuration } from '../../ui/format.js';
import { collect, repoOptions, type GlobalFlags } from '../options.js';
import { printJson, println, warn } from '../output.js';

interface BackupFlags {
  exclude?: string[];
  tag?: string[];
  host?: string;
  json?: boolean;
}

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('back up files and directories; prints the new snapshot id')
    .argument('<path...>', 'files and directories to back up')
    .option('-e, --exclude <glob>', 'leave out matching paths (a glob without "/" matches names)', collect)
    .option('--tag <tag>', 'tag the snapshot', collect)
    .option('--host <name>', 'host name recorded in the snapshot (default: this machine)')
    .option('--json', 'print a JSON summary')
    .action(async (paths: string[], opts: BackupFlags, cmd: Command) => {
      const debug = cmd.optsWithGlobals<GlobalFlags>().debug;
      const audit: AuditSpec<Awaited<ReturnType<typeof runBackup>>> = {
        action: 'backup',
        what: { paths },
        after: (s) => ({
          snapshot: s.snapshotId,
          counts: { filesNew: s.filesNew, filesChanged: s.filesChanged, filesUnmodified: s.filesUnmodified, bytesAdded: s.bytesAdded, unreadable: s.failures.length },
          result: s.failures.length ? 'incomplete' : 'ok',
          ...(s.suspect ? { detail: 'snapshot flagged suspect (mass change)' } : {}),
        }),
      };
      // The backup engine loads while the repository is unlocked.
      const engine = () => import('../../app/backup.js');
      const s = await withRepository({ ...repoOptions(cmd, { catalog: 'write', command: 'backup', preload: engine }), audit }, async (repo, local) =>
        (await engine()).runBackup(repo, {
          paths,
          exclude: opts.exclude,
          tags: opts.tag,
          host: opts.host,
          events: {
            // File names can be patient names: name them only with --debug, count them always.
            itemFailed: (p, reason) => warn(debug ? `cannot read ${p}: ${reason}` : `cannot read an item: ${reason}`),
            warning: (p, m) => debug && warn(`${p}: ${m}`),
          },
        }, local),
      );
      const { result: _result, ...summary } = s;
      if (opts.json) printJson(summary);
      else {
        println(`snapshot ${s.snapshotId.slice(0, 8)} saved`);
        println(`files: ${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnmodified} unmodified; ${s.dirs} directories`);
        println(`read ${formatBytes(s.bytesRead)} of ${formatBytes(s.totalBytes)}, added ${formatBytes(s.bytesAdded)} to the repository in ${formatDuration(s.durationMs)}`);
        if (s.warnings) println(`${s.warnings} warning(s) (run with --debug to see them)`);
      }
      // Saved all the same (it may hold what is left to restore), but an admin must look.
      if (s.suspect) warn(`snapshot ${s.snapshotId.slice(0, 8)} is SUSPECT (possible ransomware): ${s.anomalyReasons.join('; ')}; see "coffre anomaly list"`);
      if (s.failures.length) {
        throw new IncompleteError(`snapshot ${s.snapshotId.slice(0, 8)} saved, but ${s.failures.length} item(s) could not be read`, s.failures);
      }
    });
}
