import type { Command } from 'commander';
import { ackAnomalies, listAnomalies } from '../../app/anomaly.js';
import { withRepository } from '../../app/repo.js';
import { repoOptions } from '../options.js';
import { printJson, println } from '../output.js';

/**
 * `coffre anomaly list | ack`: the snapshots the mass-change check flagged, and the admin's
 * acknowledgement that ends the alarm (status CRITICAL) and the protection of the clean
 * snapshots before them from `forget`.
 */
export function registerAnomaly(program: Command): void {
  const cmd = program.command('anomaly').description('snapshots flagged by the mass-change (ransomware) check');
  cmd
    .command('list')
    .description('list suspect snapshots, and whether each was acknowledged')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }, c: Command) => {
      const list = await withRepository(repoOptions(c), (repo) => listAnomalies(repo));
      if (opts.json) return printJson(list);
      for (const a of list) {
        println(`${a.shortId}  ${a.time.slice(0, 19).replace('T', ' ')} UTC  ${a.host}  ${a.acknowledged ? 'acknowledged' : 'NOT ACKNOWLEDGED'}`);
        for (const r of a.anomalyReasons ?? []) println(`    ${r}`);
      }
      println(`${list.length} suspect snapshot(s), ${list.filter((a) => !a.acknowledged).length} not acknowledged`);
    });
  cmd
    .command('ack')
    .description('acknowledge suspect snapshots (all of them, or those named): status clears, retention stops protecting the clean ones')
    .argument('[snapshot...]', 'snapshot ids or unique prefixes (default: every one not acknowledged)')
    .option('--json', 'print the ids acknowledged')
    .action(async (refs: string[], opts: { json?: boolean }, c: Command) => {
      const ids = await withRepository(repoOptions(c, { catalog: 'write', command: 'anomaly ack' }), (repo, local) => ackAnomalies(repo, local?.catalog, refs));
      if (opts.json) return printJson({ acknowledged: ids });
      println(ids.length ? `acknowledged ${ids.length} suspect snapshot(s): ${ids.map((i) => i.slice(0, 8)).join(' ')}` : 'nothing to acknowledge');
    });
}
