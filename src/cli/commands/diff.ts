import type { Command } from 'commander';
import { diffTrees, summarize, type Change } from '../../app/diff.js';
import { withRepository } from '../../app/repo.js';
import { formatBytes } from '../../ui/format.js';
import { repoOptions } from '../options.js';
import { printJson, println } from '../output.js';

const MARK = { added: '+', removed: '-', modified: 'M', metadata: 'U' } as const;

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('what changed between two snapshots: + added, - removed, M modified, U metadata only')
    .argument('<snapshot1>', '"latest", a snapshot id or a unique prefix')
    .argument('<snapshot2>', '"latest", a snapshot id or a unique prefix')
    .option('--json', 'print a JSON object: from, to, changes, summary')
    .action(async (ref1: string, ref2: string, opts: { json?: boolean }, cmd: Command) => {
      await withRepository(repoOptions(cmd), async (repo) => {
        const [a, b] = await Promise.all([repo.findSnapshot(ref1), repo.findSnapshot(ref2)]);
        const changes: Change[] = [];
        for await (const c of diffTrees(repo, a.snapshot.tree, b.snapshot.tree)) {
          if (opts.json) changes.push(c);
          else {
            println(`${MARK[c.kind]} ${c.path}${c.type === 'dir' && c.kind !== 'metadata' ? '/' : ''}`);
            changes.push(c);
          }
        }
        const s = summarize(changes);
        if (opts.json) return printJson({ from: a.id, to: b.id, changes, summary: s });
        println();
        println(`${a.id.slice(0, 8)} → ${b.id.slice(0, 8)}: ${s.added} added, ${s.removed} removed, ${s.modified} modified, ${s.metadata} metadata only`);
        println(`file bytes: +${formatBytes(s.bytesAdded)} -${formatBytes(s.bytesRemoved)}`);
      });
    });
}
