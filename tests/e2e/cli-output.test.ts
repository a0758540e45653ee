/**
 * How the CLI behaves as a Unix citizen: output piped into a reader that stops early.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliOk } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

describe('CLI output', () => {
  it('stops quietly when the reader of its output goes away (ls | head)', async () => {
    const dir = tempDir();
    const pw = passwordFile(dir);
    const common = ['--repo', path.join(dir, 'repo'), '--password-file', pw, '--state-dir', path.join(dir, 'state')];
    for (let i = 0; i < 3000; i++) write(path.join(dir, 'src', `d${i % 30}`, `file-${i}.txt`), `${i}`);
    await cliOk(['init', ...common, '--kdf', 'min']);
    await cliOk(['backup', ...common, path.join(dir, 'src')]);
    const quoted = [process.execPath, BIN, 'ls', 'latest', ...common].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `${quoted} | head -n 1`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(`/${dir.split('/')[1]}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
