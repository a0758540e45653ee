import type { Command } from 'commander';
import { UsageError } from '../../domain/errors.js';
import type { GlobalFlags } from '../options.js';

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('the long-running service: watch, schedule, back up, check, drill (JSON logs on stdout)')
    .option('--config <file>', 'agent config file (env COFFRE_CONFIG); see docs/agent-config.md')
    .action(async (opts: { config?: string }, cmd: Command) => {
      const file = opts.config ?? process.env.COFFRE_CONFIG;
      if (!file) throw new UsageError('no agent config given', { hint: 'use --config FILE or set COFFRE_CONFIG' });
      // Loaded here, not at the top: the service's dependencies (pino, chokidar, node-cron,
      // prom-client, zod) take ~150 ms to load, which every other command would pay.
      const { runAgent } = await import('../../service/signals.js');
      await runAgent(file, { debug: cmd.optsWithGlobals<GlobalFlags>().debug });
      // Stopped cleanly. Should anything still hold the event loop, do not outlive the stop.
      setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
    });
}
