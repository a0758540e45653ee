/**
 * The CLI remembers, in the state directory, which key file opened a repository
 * (`<repository id>.last-key`), so the next command tries it first; every passphrase
 * still opens the repository, and a wrong one fails exactly as before.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';

describe('the key file remembered between commands', () => {
  const dir = tempDir();
  const repo = path.join(dir, 'repo');
  const state = path.join(dir, 'state');
  const env = { COFFRE_STATE_DIR: state };
  const admin = passwordFile(dir);
  const src = path.join(dir, 'src');
  let init: { repositoryId: string; keyId: string; recoveryKey: string };
  let recovery: string;
  const hint = () => fs.readFileSync(path.join(state, `${init.repositoryId}.last-key`), 'utf8');

  beforeAll(async () => {
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a.txt'), 'some content');
    init = JSON.parse((await cliOk(['init', '--repo', repo, '--password-file', admin, '--kdf', 'min', '--json'], { env })).stdout);
    recovery = passwordFile(dir, init.recoveryKey);
  });

  it('records the key that opened the repository, and follows a change of passphrase', async () => {
    await cliOk(['backup', '--repo', repo, '--password-file', admin, src], { env });
    expect(hint()).toBe(`${init.keyId}\n`);
    const keys = JSON.parse((await cliOk(['key', 'list', '--json', '--repo', repo, '--password-file', recovery], { env })).stdout) as { id: string; label: string; current: boolean }[];
    const rec = keys.find((k) => k.label === 'recovery')!;
    expect(rec.current).toBe(true);
    expect(hint()).toBe(`${rec.id}\n`);
    // The admin passphrase still opens it with the recovery key remembered.
    const snaps = await cliOk(['snapshots', '--json', '--repo', repo, '--password-file', admin], { env });
    expect(JSON.parse(snaps.stdout)).toHaveLength(1);
    expect(hint()).toBe(`${init.keyId}\n`);
  });

  it('a wrong passphrase fails as before (exit 12, one line) and changes nothing', async () => {
    const before = hint();
    const wrong = passwordFile(dir, 'not the passphrase');
    const r = await runCli(['snapshots', '--repo', repo, '--password-file', wrong], { env });
    expect(r.code).toBe(12);
    expect(r.stderr).toBe(`coffre: wrong passphrase: it opens none of the 2 key file(s) of ${repo}\n`);
    expect(hint()).toBe(before);
  });

  it('is recorded by checks too (they keep their audit trail in the state directory)', async () => {
    const other = path.join(dir, 'state-of-check');
    await cliOk(['check', '--repo', repo, '--password-file', recovery], { env: { COFFRE_STATE_DIR: other } });
    const keys = JSON.parse((await cliOk(['key', 'list', '--json', '--repo', repo, '--password-file', recovery], { env })).stdout) as { id: string; current: boolean }[];
    expect(fs.readFileSync(path.join(other, `${init.repositoryId}.last-key`), 'utf8')).toBe(`${keys.find((k) => k.current)!.id}\n`);
  });
});
