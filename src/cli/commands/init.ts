import { Option, type Command } from 'commander';
import { initRepo } from '../../app/init.js';
import { KDF_PROFILES, parseKdfProfile } from '../../crypto/kdf.js';
import { UsageError } from '../../domain/errors.js';
import { printJson, println } from '../output.js';
import { repoOptions } from '../options.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a repository (prints a recovery key once)')
    .addOption(new Option('--object-lock-mode <mode>', 'S3 Object Lock retention for every object').choices(['compliance', 'governance']))
    .option('--object-lock-days <n>', 'retention period in days', positiveInt('--object-lock-days'))
    .addOption(new Option('--kdf <profile>', 'Argon2id cost of the key file').choices(Object.keys(KDF_PROFILES)).default('moderate'))
    .option('--compression-level <n>', 'zstd level, 0 = off (default 2)', nonNegativeInt('--compression-level'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: { objectLockMode?: 'compliance' | 'governance'; objectLockDays?: number; kdf: string; compressionLevel?: number; json?: boolean }, cmd: Command) => {
      const r = await initRepo({
        ...repoOptions(cmd),
        kdf: parseKdfProfile(opts.kdf),
        objectLockMode: opts.objectLockMode,
        objectLockDays: opts.objectLockDays,
        compressionLevel: opts.compressionLevel,
      });
      if (opts.json) return printJson({ location: r.location, repositoryId: r.repositoryId, keyId: r.keyId, recoveryKey: r.recoveryKey });
      println(`created repository ${r.repositoryId.slice(0, 8)} at ${r.location}`);
      if (r.recoveryKey) {
        println();
        println('Recovery key (shown only this once; print it and lock it away, it opens the repository like a passphrase):');
        println();
        println(`    ${r.recoveryKey}`);
        println();
      }
    });
}

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
