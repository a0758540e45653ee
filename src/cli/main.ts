/**
 * The command line: parse, run one command, and turn any error into one line on stderr
 * and a documented exit code (README, "Exit codes"). This is the only place that decides
 * a process's exit status.
 * @module
 */
import { Command, CommanderError } from 'commander';
import { CoffreError, ExitCode } from '../domain/errors.js';
import { registerAgent } from './commands/agent.js';
import { registerAnomaly } from './commands/anomaly.js';
import { registerAudit } from './commands/audit.js';
import { registerBackup } from './commands/backup.js';
import { registerCatalog } from './commands/catalog.js';
import { registerCheck } from './commands/check.js';
import { registerDiff } from './commands/diff.js';
import { registerDrill } from './commands/drill.js';
import { registerDump } from './commands/dump.js';
import { registerFind } from './commands/find.js';
import { registerForget } from './commands/forget.js';
import { registerPrune } from './commands/prune.js';
import { registerInit } from './commands/init.js';
import { registerKey } from './commands/key.js';
import { registerRestore } from './commands/restore.js';
import { registerSnapshots } from './commands/snapshots.js';
import { registerStatus } from './commands/status.js';
import { addGlobalOptions } from './options.js';

export function buildProgram(): Command {
  const program = new Command('coffre')
    .description('Encrypted, deduplicating off-site backups')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error: ') ? `coffre: ${s.slice(7)}` : s) });
  addGlobalOptions(program);
  for (const register of [registerInit, registerBackup, registerSnapshots, registerRestore, registerDump, registerCheck, registerDrill, registerKey, registerFind, registerDiff, registerForget, registerPrune, registerAnomaly, registerAudit, registerCatalog, registerStatus, registerAgent]) {
    register(program);
  }
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const debug = argv.includes('--debug');
  // `coffre ls … | head`: the reader went away. Stop quietly, as a SIGPIPE would, rather
  // than die on an unhandled stream error with a stack trace.
  // But a command whose output is the data itself (dump, restore --tar -) did not deliver
  // it: that is a failure a `set -o pipefail` script must see.
  const streamsData = argv.includes('dump') || argv.includes('--tar');
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    if (!streamsData) process.exit(ExitCode.ok);
    process.stderr.write('coffre: the output was closed before all the data was written\n');
    process.exit(ExitCode.failure);
  });
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (e) {
    process.exitCode = reportError(e, debug);
  }
}

function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    // --help and --version end here too, with exit code 0; commander already printed.
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (e instanceof CoffreError) {
    const hint = e.hint ? ` (${e.hint})` : '';
    process.stderr.write(`coffre: ${oneLine(e.message)}${hint}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`coffre: unexpected error: ${oneLine(err.message)}\n`);
  if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
  return ExitCode.failure;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

