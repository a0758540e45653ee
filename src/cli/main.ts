/**
 * The command line: parse, run one command, and turn any error into one line on stderr
 * and a documented exit code (README, "Exit codes"). This is the only place that decides
 * a process's exit status.
 * @module
 */
import { Command, CommanderError } from 'commander';
import { CoffreError, ExitCode } from '../domain/errors.js';
import { commandName } from './fast-status.js';
import { addGlobalOptions } from './options.js';
import { VERSION } from '../domain/version.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when needed: a command line names one command, and
 * loading every command (the restorer, prune, the agent's scheduler, tar…) would cost
 * every run about twice the module loading it needs. Help, --version and unknown names
 * load them all. In help order.
 */
const COMMANDS: readonly (readonly [names: readonly string[], load: () => Promise<Register>])[] = [
  [['init'], async () => (await import('./commands/init.js')).registerInit],
  [['backup'], async () => (await import('./commands/backup.js')).registerBackup],
  [['snapshots', 'ls'], async () => (await import('./commands/snapshots.js')).registerSnapshots],
  [['restore'], async () => (await import('./commands/restore.js')).registerRestore],
  [['dump'], async () => (await import('./commands/dump.js')).registerDump],
  [['check'], async () => (await import('./commands/check.js')).registerCheck],
  [['drill'], async () => (await import('./commands/drill.js')).registerDrill],
  [['key'], async () => (await import('./commands/key.js')).registerKey],
  [['find'], async () => (await import('./commands/find.js')).registerFind],
  [['diff'], async () => (await import('./commands/diff.js')).registerDiff],
  [['forget'], async () => (await import('./commands/forget.js')).registerForget],
  [['prune'], async () => (await import('./commands/prune.js')).registerPrune],
  [['anomaly'], async () => (await import('./commands/anomaly.js')).registerAnomaly],
  [['audit'], async () => (await import('./commands/audit.js')).registerAudit],
  [['catalog'], async () => (await import('./commands/catalog.js')).registerCatalog],
  [['status'], async () => (await import('./commands/status.js')).registerStatus],
  [['agent'], async () => (await import('./commands/agent.js')).registerAgent],
];

/** The program with the command `argv` names, or with every command if it names none we know. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const name = commandName(argv);
  const one = COMMANDS.find(([names]) => name !== undefined && names.includes(name));
  const registers = await Promise.all((one ? [one] : COMMANDS).map(([, load]) => load()));
  const program = new Command('coffre')
    .description('Encrypted, deduplicating off-site backups')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error: ') ? `coffre: ${s.slice(7)}` : s) });
  addGlobalOptions(program);
  for (const register of registers) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  // Scripts and monitoring ask for the version alone: answered without loading every command
  // (0.25-0.34 s otherwise), as commander would print it.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
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
    await (await buildProgram(argv)).parseAsync([...argv]);
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

