import type { Command } from 'commander';
import { cleanSnapshots } from '../../app/anomaly.js';
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
    .option('--clean', 'name the newest clean snapshot per host and paths (before any suspect one not acknowledged)')
    .action(async (opts: { json?: boolean; clean?: boolean }, cmd: Command) => {
      if (opts.clean) return printClean(cmd, opts.json === true);
      const list = await withRepository(repoOptions(cmd), async (repo) => (await repo.snapshots()).map(toListing));
      if (opts.json) return printJson(list);
      println('ID        Time                      Host                 Tags        Paths');
      for (const s of list) {
        // "!" marks a snapshot the mass-change check flagged (coffre anomaly list).
        println(`${s.shortId}${s.suspect ? '!' : ' '} ${s.time.slice(0, 19).replace('T', ' ')} UTC   ${s.host.padEnd(20)} ${s.tags.join(',').padEnd(11)} ${s.paths.join(' ')}`);
      }
      const suspect = list.filter((s) => s.suspect).length;
      println(`${list.length} snapshot(s)${suspect ? `; ${suspect} suspect (!), see "coffre anomaly list" and "coffre snapshots --clean"` : ''}`);
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

async function printClean(cmd: Command, json: boolean): Promise<void> {
  const groups = await withRepository(repoOptions(cmd), (repo) => cleanSnapshots(repo));
  const rows = groups.map((g) => ({
    host: g.host,
    paths: g.paths,
    newestClean: g.clean.at(-1)?.id ?? null,
    newestCleanTime: g.clean.at(-1)?.time ?? null,
    firstUnacknowledgedSuspect: g.firstUnacknowledged?.id ?? null,
  }));
  if (json) return printJson(rows);
  for (const r of rows) {
    const clean = r.newestClean ? `${r.newestClean.slice(0, 8)} (${r.newestCleanTime!.slice(0, 19).replace('T', ' ')} UTC)` : 'none';
    const trouble = r.firstUnacknowledgedSuspect ? `; suspect since ${r.firstUnacknowledgedSuspect.slice(0, 8)}` : '';
    println(`${r.host} ${r.paths.join(' ')}: newest clean ${clean}${trouble}`);
  }
}
