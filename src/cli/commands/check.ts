import type { Command } from 'commander';
import { runCheck } from '../../app/check.js';
import type { Finding } from '../../checker/checker.js';
import { parseSubset } from '../../checker/subset.js';
import { VerificationFailedError } from '../../domain/errors.js';
import { formatBytes } from '../../ui/format.js';
import { repoOptions } from '../options.js';
import { printJson, println, warn } from '../output.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('verify the repository; exits non-zero naming what is damaged')
    .option('--read-data', 'also download and authenticate every pack')
    .option('--read-data-subset <subset>', 'download a part: N% (moves daily) or n/m')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { readData?: boolean; readDataSubset?: string; json?: boolean }, cmd: Command) => {
      const readData = opts.readDataSubset ? parseSubset(opts.readDataSubset) : opts.readData === true;
      const r = await runCheck(repoOptions(cmd), { readData, onFinding: opts.json ? undefined : printFinding });
      if (opts.json) printJson(r);
      else {
        const data = r.packsRead ? `, read ${r.packsRead} pack(s) (${formatBytes(r.bytesRead)})` : '';
        println(`checked ${r.snapshots} snapshot(s), ${r.packs} pack(s), ${r.blobs} blob(s)${data}`);
        println(r.ok ? 'no errors found' : `${r.findings.filter((f) => f.severity === 'error').length} error(s) found`);
      }
      if (!r.ok) throw new VerificationFailedError('the repository is damaged (see the findings above)');
    });
}

function printFinding(f: Finding): void {
  warn(`${f.severity}: ${f.object}: ${f.message}`);
  for (const a of f.affects ?? []) {
    warn(`  snapshot ${a.snapshot.slice(0, 8)}: ${a.count} item(s) affected`);
    for (const p of a.paths) warn(`    ${p}`);
  }
}
