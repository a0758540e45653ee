/**
 * `coffre status` without loading every other command. Monitoring runs it every minute on
 * every server, and the full command line loads the whole backup engine (crypto, codecs,
 * S3 client glue, archiver, restorer) before it can parse a flag; this entry loads what
 * status needs and nothing else. bin/coffre.js asks `isStatusCall` first.
 * @module
 */

/** Global options that take a value (options.ts): their value is not the command name. */
const WITH_VALUE = new Set(['-r', '--repo', '--password-file', '--state-dir', '--workers']);

/** Whether the command on this command line is `status`. */
export function isStatusCall(argv: readonly string[]): boolean {
  return commandName(argv) === 'status';
}

/** The command a command line (process.argv) names: its first operand; main() loads only that one. */
export function commandName(argv: readonly string[]): string | undefined {
  for (let k = 2; k < argv.length; k++) {
    const a = argv[k]!;
    if (WITH_VALUE.has(a)) k++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * As main() does for every command, but every failure is UNKNOWN (exit 3), a bad flag too:
 * that is what a Nagios/Icinga plugin must answer ("invalid command line arguments" are
 * UNKNOWN in the plugin guidelines), so a broken check definition never reads as CRITICAL.
 */
export async function statusMain(argv: readonly string[]): Promise<void> {
  const [{ Command, CommanderError }, { addGlobalOptions }, { registerStatus }] = await Promise.all([
    import('commander'),
    import('./options.js'),
    import('./commands/status.js'),
  ]);
  const program = new Command('coffre')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error: ') ? `coffre: ${s.slice(7)}` : s) });
  addGlobalOptions(program);
  registerStatus(program);
  for (const cmd of program.commands) cmd.exitOverride();
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 3; // --help; or a usage error, which commander has printed
      if (e.exitCode !== 0) process.stdout.write(`COFFRE UNKNOWN - ${e.message.replace(/^error: /, '')}\n`);
      return;
    }
    process.stdout.write(`COFFRE UNKNOWN - ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 3;
  }
}
