import type { Command } from 'commander';
import { listSnapshotFiles, toListing } from '../../app/browse.js';
import { withRepository } from '../../app/repo.js';
import { formatBytes, formatMode } from '../../ui/format.js';
import { repoOptions } from '../options.js';
import { printJson, println } from '../output.js';

export function registerSnapshots(program: Command): void {
  program
    .command('snapshots')
    .description('list snapshots, oldest first')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await withRepository(repoOptions(cmd), async (repo) => (await repo.snapshots()).map(toListing));
      if (opts.json) return printJson(list);
      println('ID        Time                      Host                 Tags        Paths');
      for (const s of list) {
        println(`${s.shortId}  ${s.time.slice(0, 19).replace('T', ' ')} UTC   ${s.host.padEnd(20)} ${s.tags.join(',').padEnd(11)} ${s.paths.join(' ')}`);
      }
      println(`${list.length} snapshot(s)`);
    });

  program
    .command('ls')
    .description('list the files of a snapshot')
    .argument('<snapshot>', '"latest", a snapshot id or a unique prefix')
    .argument('[path]', 'only this path and what is below it')
    .option('-l, --long', 'show mode, size and time')
    .option('--json', 'print JSON lines')
    .action(async (ref: string, prefix: string | undefined, opts: { long?: boolean; json?: boolean }, cmd: Command) => {
      await withRepository(repoOptions(cmd), async (repo) => {
        const { snapshot } = await repo.findSnapshot(ref);
        for await (const e of listSnapshotFiles(repo, snapshot.tree, prefix)) {
          if (opts.json) println(JSON.stringify(e));
          else if (opts.long) {
            const link = e.target !== undefined ? ` -> ${e.target}` : '';
            println(`${formatMode(e.type, e.mode)} ${formatBytes(e.size).padStart(10)} ${e.mtime.slice(0, 19).replace('T', ' ')} ${e.path}${link}`);
          } else println(e.path);
        }
      });
    });
}
