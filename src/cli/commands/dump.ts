import type { Command } from 'commander';
import { runDump } from '../../app/restore.js';
import type { AuditSpec } from '../../app/audit.js';
import { withRepository } from '../../app/repo.js';
import { IncompleteError } from '../../domain/errors.js';
import { repoOptions } from '../options.js';
import { warn } from '../output.js';
import { toOutput } from './tar-output.js';

export function registerDump(program: Command): void {
  program
    .command('dump')
    .description('write one file of a snapshot to standard output (a directory as a tar archive)')
    .argument('<snapshot>', '"latest", a snapshot id or a unique prefix')
    .argument('<path>', 'the path as backed up, e.g. /srv/identites/a.csv')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--overwrite', 'with --output: replace an existing file')
    .action(async (ref: string, p: string, opts: { output?: string; overwrite?: boolean }, cmd: Command) => {
      try {
        const audit: AuditSpec<{ snapshotId: string; bytes: number }> = {
          action: 'dump',
          what: { snapshot: ref, paths: [p] },
          after: (r) => ({ snapshot: r.snapshotId, counts: { bytes: r.bytes } }),
        };
        await withRepository({ ...repoOptions(cmd), audit }, (repo) =>
          toOutput(opts.output ?? '-', opts.overwrite, (out, end) => runDump(repo, { snapshot: ref, path: p, out, end })),
        );
      } catch (e) {
        if (e instanceof IncompleteError) for (const f of e.failures) warn(`left out: ${f}`);
        throw e;
      }
    });
}
