/**
 * How the CLI behaves as a Unix citizen: output piped into a reader that stops early.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withoutPath } from '../../src/archiver/archiver.js';
import { BIN, cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

describe('CLI output', () => {
  it('stops quietly when the reader of a listing goes away (ls | head), and fails when a tar stream is cut', async () => {
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
    // A tar stream cut short did not deliver the data: that must not look like success.
    const tar = [process.execPath, BIN, 'restore', 'latest', '--tar', '-', ...common].map((a) => `'${a}'`).join(' ');
    const cut = spawnSync('bash', ['-o', 'pipefail', '-c', `${tar} | head -c 100 >/dev/null`], { encoding: 'utf8' });
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(/^coffre: the output was closed before all the data was written/);
  });
});

describe('names a backup cannot store', () => {
  it('reports a file name that is not UTF-8 (exit 3) without printing it, and backs up the rest', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const common = ['--repo', path.join(dir, 'repo'), '--password-file', passwordFile(dir), '--state-dir', path.join(dir, 'state')];
    write(path.join(src, 'ok.txt'), 'fine');
    fs.writeFileSync(Buffer.from(`${src}/dossier_m\xe9dical.csv`, 'latin1'), 'Latin-1 name');
    await cliOk(['init', ...common, '--kdf', 'min']);
    const r = await runCli(['backup', '--json', ...common, src]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not valid UTF-8/);
    expect(r.stderr).not.toMatch(/dossier/);
    expect(JSON.parse(r.stdout).totalFiles).toBe(1);
  });

  it('keeps paths out of failure reasons', () => {
    expect(withoutPath("EACCES: permission denied, open '/srv/identites/DUPONT Jean.csv'")).toBe('EACCES: permission denied');
    expect(withoutPath("ELOOP: too many symbolic links encountered, stat '/a' -> '/b'")).toBe('ELOOP: too many symbolic links encountered');
  });
});
