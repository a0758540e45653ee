import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from 'commander';
import { drill } from '../../app/drill.js';
import { CoffreError, ExitCode, UsageError, VerificationFailedError } from '../../domain/errors.js';
import { DEFAULT_SAMPLE } from '../../drill/drill.js';
import { renderDrillReportFile, renderDrillText, reportFormat } from '../../ui/drill-report.js';
import { positiveInt } from '../options.js';
import { repoOptions } from '../options.js';
import { printJson, warn } from '../output.js';

interface DrillFlags {
  snapshot: string;
  sample?: number;
  full?: boolean;
  compareLive?: boolean;
  report?: string;
  json?: boolean;
  scratch?: string;
  seed?: number;
}

/** A drill that could not run to the end keeps the exit code of what stopped it. */
class DrillStoppedError extends CoffreError {
  override readonly code = 'COFFRE_DRILL_STOPPED';
  constructor(
    message: string,
    override readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export function registerDrill(program: Command): void {
  program
    .command('drill')
    .description('restore drill: restore into a scratch directory, verify every byte, report; non-zero exit on any mismatch')
    .option('--snapshot <id>', 'snapshot to drill: "latest", an id or a unique prefix', 'latest')
    .option('--sample <n>', `restore a sample of N files, large and small (default ${DEFAULT_SAMPLE})`, positiveInt('--sample'))
    .option('--full', 'restore every file of the snapshot')
    .option('--compare-live', 'also compare the restored files with the live files (changes since the backup are reported apart)')
    .option('--report <file>', 'write a report for auditors: Markdown (.md) or HTML (.html)')
    .option('--json', 'print the report as JSON')
    .option('--scratch <dir>', 'where to create the scratch directory (default: the system temporary directory)')
    .option('--seed <n>', 'seed of the sample draw, to repeat a drill exactly', (v) => {
      if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new UsageError(`--seed: expected an integer from 0 to 4294967295, got "${v}"`);
      return Number(v);
    })
    .action(async (opts: DrillFlags, cmd: Command) => {
      if (opts.full && opts.sample !== undefined) throw new UsageError('--full and --sample exclude each other');
      if (opts.report !== undefined && reportFormat(opts.report) === undefined) {
        throw new UsageError(`--report ${opts.report}: the name must end in .md or .html`);
      }
      const report = await drill(repoOptions(cmd), {
        snapshot: opts.snapshot,
        mode: opts.full ? { kind: 'full' } : { kind: 'sample', files: opts.sample ?? DEFAULT_SAMPLE },
        seed: opts.seed,
        compareLive: opts.compareLive,
        scratchParent: opts.scratch,
        program: `coffre ${program.version() ?? ''}`.trim(),
        record: true,
        events: { warning: warn },
      });
      if (opts.report !== undefined) await writeReport(opts.report, renderDrillReportFile(report, opts.report)!);
      if (opts.json) printJson(report);
      else process.stdout.write(renderDrillText(report));
      if (report.result === 'ok') return;
      if (report.error) throw new DrillStoppedError(`drill failed: ${report.error.message}`, report.error.exitCode as ExitCode);
      const what = [report.mismatches ? `${report.mismatches} mismatch(es)` : '', report.repositoryProblems.length ? `${report.repositoryProblems.length} damaged object(s)` : '']
        .filter(Boolean)
        .join(', ');
      throw new VerificationFailedError(`drill failed: ${what}`);
    });
}

/** Written whole or not at all; mode 0600, since it may name files. */
async function writeReport(file: string, text: string): Promise<void> {
  const final = path.resolve(file);
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.coffre-part`);
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, final);
}
