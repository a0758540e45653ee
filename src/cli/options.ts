/**
 * Options shared by the commands (see ../shared/CLI.md for the names admins rely on).
 * @module
 */
import { Option, type Command } from 'commander';
import type { RepoOptions } from '../app/repo.js';
import { KDF_PROFILES, kdfChoice, type KdfChoice } from '../crypto/kdf.js';
import { UsageError } from '../domain/errors.js';
import { warn } from './output.js';

export interface GlobalFlags {
  repo?: string;
  passwordFile?: string;
  stateDir?: string;
  debug?: boolean;
  workers?: string;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option('-r, --repo <location>', 'repository: a directory or s3:http(s)://host[:port]/bucket[/prefix] (env COFFRE_REPOSITORY)')
    .option('--password-file <file>', 'file holding the passphrase, mode 0600 (env COFFRE_PASSWORD_FILE)')
    .option('--state-dir <dir>', 'local state: catalog and locks (env COFFRE_STATE_DIR)')
    .addOption(new Option('--workers <n>', 'worker threads for compression and encryption (default: one per core)').hideHelp())
    .option('--debug', 'show stack traces and file names in logs');
}

export function repoOptions(cmd: Command, extra: Partial<RepoOptions> = {}): RepoOptions {
  const g = cmd.optsWithGlobals<GlobalFlags>();
  return {
    repo: g.repo,
    passwordFile: g.passwordFile,
    stateDir: g.stateDir,
    workers: g.workers !== undefined ? Number(g.workers) : undefined,
    notice: (message) => warn(message),
    ...extra,
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface KdfFlags {
  kdf: string;
  kdfMemory?: number;
  kdfPasses?: number;
}

/** `--kdf`, `--kdf-memory`, `--kdf-passes`: the Argon2id cost of a new key file (init, key add, key passwd). */
export function addKdfOptions(cmd: Command, what: string): Command {
  return cmd
    .addOption(new Option('--kdf <profile>', `Argon2id cost of ${what}`).choices(Object.keys(KDF_PROFILES)).default('moderate'))
    .option('--kdf-memory <MiB>', 'Argon2id memory in MiB, instead of the profile\'s (19 or more)', nonNegativeInt('--kdf-memory'))
    .option('--kdf-passes <n>', 'Argon2id passes, instead of the profile\'s', nonNegativeInt('--kdf-passes'));
}

export function kdfFromFlags(opts: KdfFlags): KdfChoice {
  return kdfChoice(opts.kdf, { memoryMiB: opts.kdfMemory, passes: opts.kdfPasses });
}

/** Parsers for whole-number flags: a bad value is a one-line usage error naming the flag. */
export function positiveInt(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag}: expected a positive integer, got "${v}"`);
    return Number(v);
  };
}

export function nonNegativeInt(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${flag}: expected a non-negative integer, got "${v}"`);
    return Number(v);
  };
}
