import { Option, type Command } from 'commander';
import { initRepo } from '../../app/init.js';
import { printJson, println } from '../output.js';
import { addKdfOptions, kdfFromFlags, nonNegativeInt, positiveInt, repoOptions, type KdfFlags } from '../options.js';

export function registerInit(program: Command): void {
  addKdfOptions(program.command('init'), 'the key files')
    .description('create a repository (prints a recovery key once)')
    .addOption(new Option('--object-lock-mode <mode>', 'S3 Object Lock retention for every object').choices(['compliance', 'governance']))
    .option('--object-lock-days <n>', 'retention period in days', positiveInt('--object-lock-days'))
    .option('--compression-level <n>', 'zstd level, 0 = off (default 2)', nonNegativeInt('--compression-level'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: KdfFlags & { objectLockMode?: 'compliance' | 'governance'; objectLockDays?: number; compressionLevel?: number; json?: boolean }, cmd: Command) => {
      const r = await initRepo({
        ...repoOptions(cmd),
        kdf: kdfFromFlags(opts),
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
