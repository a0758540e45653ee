import type { Command } from 'commander';
import { findInSnapshots } from '../../app/find.js';
import { withRepository } from '../../app/repo.js';
import { formatBytes } from '../../ui/format.js';
import { collect, repoOptions } from '../options.js';
import { printJson, println } from '../output.js';

export function registerFind(program: Command): void {
  program
    .command('find')
    .description('which snapshots hold a path: a glob on the name (no "/"), or on the absolute path')
    .argument('<pattern>', 'e.g. "*.csv", "patients-00??.csv", "/srv/identites/**/2026-*"')
    .option('-s, --snapshot <id>', 'look only in this snapshot ("latest", id or prefix; repeatable)', collect)
    .option('--host <name>', 'only snapshots taken on this host')
    .option('-i, --ignore-case', 'match regardless of case')
    .option('-l, --long', 'show type, size and time')
    .option('--json', 'print a JSON array: one object per snapshot with its matches')
    .action(async (pattern: string, opts: { snapshot?: string[]; host?: string; ignoreCase?: boolean; long?: boolean; json?: boolean }, cmd: Command) => {
      const results = await withRepository(repoOptions(cmd), (repo) =>
        findInSnapshots(repo, pattern, { snapshots: opts.snapshot, host: opts.host, ignoreCase: opts.ignoreCase }),
      );
      if (opts.json) return printJson(results);
      for (const r of results) {
        println(`snapshot ${r.shortId} of ${r.time.slice(0, 19).replace('T', ' ')} UTC on ${r.host}:`);
        for (const m of r.matches) {
          println(opts.long ? `  ${m.type.padEnd(7)} ${formatBytes(m.size).padStart(10)} ${m.mtime.slice(0, 19).replace('T', ' ')} ${m.path}` : `  ${m.path}`);
        }
      }
      const n = results.reduce((k, r) => k + r.matches.length, 0);
      println(`${n} match(es) in ${results.length} snapshot(s)`);
    });
}
