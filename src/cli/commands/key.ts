import type { Command } from 'commander';
import type { AuditSpec } from '../../app/audit.js';
import { withRepository } from '../../app/repo.js';
import { combineRecoveryShares, splitRecoveryKey } from '../../app/recovery-shares.js';
import { promptSecret } from '../../app/secrets.js';
import { readSecretFile } from '../../util/secret-file.js';
import { UsageError } from '../../domain/errors.js';
import { listKeys, refuseKeyRemovalUnderLock, removeKey } from '../../repository/keys.js';
import { keyFileKey } from '../../repository/layout.js';
import { addKdfOptions, kdfFromFlags, repoOptions, type KdfFlags } from '../options.js';
import { printJson, println } from '../output.js';

export function registerKey(program: Command): void {
  const key = program.command('key').description('manage passphrases (key files)');

  key
    .command('list')
    .description('list key files')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { keys, current } = await withRepository(repoOptions(cmd), async (repo) => ({ keys: await listKeys(repo.storage), current: repo.keyId }));
      if (opts.json) return printJson(keys.map((k) => ({ ...k, current: k.id === current })));
      for (const k of keys) {
        println(`${k.id === current ? '*' : ' '} ${k.id.slice(0, 8)}  ${k.label.padEnd(9)} ${k.kind.padEnd(10)} ${k.created.slice(0, 19)}  ${k.username}@${k.host}  ${k.kdf}`);
      }
    });

  addKdfOptions(key.command('add'), 'the new key file')
    .description('add a passphrase')
    .option('--new-password-file <file>', 'file holding the new passphrase (mode 0600); else asked on the terminal')
    .option('--label <label>', 'what this key is for (default: admin, or agent with --write-only)')
    .option('--write-only', "a key for a backup agent: it can add backups, not read any (the server's key)")
    .action(async (opts: KdfFlags & { newPasswordFile?: string; label?: string; writeOnly?: boolean }, cmd: Command) => {
      const label = opts.label ?? (opts.writeOnly ? 'agent' : 'admin');
      const kind = opts.writeOnly ? 'write-only' : 'full';
      const audit: AuditSpec<string> = { action: 'key-add', what: { detail: `${kind}, label ${label}` }, after: (id) => ({ detail: `key ${id.slice(0, 8)}, ${kind}, label ${label}` }) };
      const id = await withRepository({ ...repoOptions(cmd), audit }, async (repo) => {
        const pw = await newPassword(opts.newPasswordFile);
        return repo.addKey(pw, { profile: kdfFromFlags(opts), label, writeOnly: opts.writeOnly === true });
      });
      println(`added ${opts.writeOnly ? 'write-only ' : ''}key ${id.slice(0, 8)}`);
    });

  key
    .command('remove')
    .description('remove a key file (not the one in use, not the last one)')
    .argument('<id>', 'key id or unique prefix (see "key list")')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const audit: AuditSpec<string> = { action: 'key-remove', after: (id) => ({ detail: `key ${id.slice(0, 8)}` }) };
      const id = await withRepository({ ...repoOptions(cmd), audit }, (repo) => removeKey(repo.storage, ref, repo.keyId, repo.config.objectLock));
      println(`removed key ${id.slice(0, 8)}`);
    });

  key
    .command('recovery-split')
    .description('split the recovery key into shares, any --threshold of which restore it (no repository needed)')
    .requiredOption('--recovery-key-file <file>', 'file holding the recovery key (mode 0600)')
    .requiredOption('--threshold <m>', 'shares needed to restore it', positiveInt)
    .requiredOption('--shares <n>', 'shares to make', positiveInt)
    .action(async (opts: { recoveryKeyFile: string; threshold: number; shares: number }) => {
      const key = await readSecretFile(opts.recoveryKeyFile, 'recovery key');
      try {
        for (const line of splitRecoveryKey(key, opts.threshold, opts.shares)) println(line);
      } finally {
        key.fill(0);
      }
    });

  key
    .command('recovery-combine')
    .description('print the recovery key rebuilt from shares (one per file, mode 0600)')
    .argument('<share-files...>', 'files each holding one share')
    .action(async (files: string[]) => {
      const lines = await Promise.all(files.map(async (f) => (await readSecretFile(f, 'recovery key share')).toString('latin1')));
      println(combineRecoveryShares(lines));
    });

  addKdfOptions(key.command('passwd'), 'the new key file')
    .description('change the passphrase: add a key file for the new one, then remove the current one')
    .option('--new-password-file <file>', 'file holding the new passphrase (mode 0600)')
    .action(async (opts: KdfFlags & { newPasswordFile?: string }, cmd: Command) => {
      const audit: AuditSpec<string> = { action: 'key-passwd', after: (id) => ({ detail: `new key ${id.slice(0, 8)}` }) };
      const id = await withRepository({ ...repoOptions(cmd), audit }, async (repo) => {
        // Checked before the new key is added: passwd must not stop half-way.
        refuseKeyRemovalUnderLock(repo.config.objectLock, 'cannot change the passphrase (its old key file cannot be removed)');
        const label = (await listKeys(repo.storage)).find((k) => k.id === repo.keyId)?.label ?? 'admin';
        const added = await repo.addKey(await newPassword(opts.newPasswordFile), { profile: kdfFromFlags(opts), label });
        await repo.storage.delete(keyFileKey(repo.keyId));
        return added;
      });
      println(`passphrase changed (key ${id.slice(0, 8)})`);
    });
}

async function newPassword(file: string | undefined): Promise<Buffer> {
  if (file) return readSecretFile(file, 'new passphrase');
  if (!process.stdin.isTTY) throw new UsageError('no new passphrase', { hint: 'use --new-password-file FILE (mode 0600)' });
  const pw = await promptSecret('New passphrase: ');
  if (!pw.equals(await promptSecret('New passphrase again: '))) throw new UsageError('the passphrases do not match');
  return pw;
}

function positiveInt(v: string): number {
  if (!/^\d{1,3}$/.test(v)) throw new UsageError(`"${v}" is not a whole number from 1 to 255`);
  return Number(v);
}
