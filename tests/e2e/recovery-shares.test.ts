/**
 * The recovery key split M-of-N through the CLI: the key `init` prints, split 2-of-3, comes
 * back from any two share files and opens the repository; one share alone, or a share file
 * others can read, is refused with one line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

describe('recovery key shares', () => {
  it('split 2-of-3, any two give the key back and it opens the repository', async () => {
    const dir = tempDir();
    const repo = path.join(dir, 'repo');
    const common = ['--repo', repo, '--state-dir', path.join(dir, 'state')];
    const init = JSON.parse((await cliOk(['init', '--json', ...common, '--password-file', passwordFile(dir), '--kdf', 'min'])).stdout) as { recoveryKey: string };
    write(path.join(dir, 'src/a.txt'), 'a');
    await cliOk(['backup', ...common, '--password-file', passwordFile(dir), path.join(dir, 'src')]);
    const keyFile = passwordFile(dir, init.recoveryKey);

    const split = await cliOk(['key', 'recovery-split', '--recovery-key-file', keyFile, '--threshold', '2', '--shares', '3']);
    const shares = split.stdout.trim().split('\n');
    expect(shares).toHaveLength(3);
    expect(split.stdout).not.toContain(init.recoveryKey);
    const files = shares.map((s) => passwordFile(dir, s));

    const back = await cliOk(['key', 'recovery-combine', files[2]!, files[0]!]);
    expect(back.stdout.trim()).toBe(init.recoveryKey);
    const rebuilt = passwordFile(dir, back.stdout.trim());
    const snaps = JSON.parse((await cliOk(['snapshots', '--json', ...common, '--password-file', rebuilt])).stdout) as unknown[];
    expect(snaps).toHaveLength(1);

    const one = await runCli(['key', 'recovery-combine', files[1]!]);
    expect(one.code).toBe(2);
    expect(one.stderr.trim()).toBe('coffre: 1 share(s) given, 2 needed');
    fs.chmodSync(files[1]!, 0o644);
    const loose = await runCli(['key', 'recovery-combine', files[1]!, files[2]!]);
    expect(loose.code).toBe(2);
    expect(loose.stderr).toMatch(/recovery key share file .* is readable by group or others \(mode 0644\)/);
    expect(loose.stderr).toContain(`chmod 600 ${files[1]}`);
  });
});
