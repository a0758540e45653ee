/**
 * A key file's Argon2id cost can be given in numbers (`--kdf-memory`, `--kdf-passes`), for
 * an admin matching a machine's memory or another tool's cost, but never below OWASP's
 * floor: the passphrase is all that protects a stolen repository.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KDF_PROFILES, kdfChoice } from '../../src/crypto/kdf.js';
import { UsageError } from '../../src/domain/errors.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';

const MIB = 1024 * 1024;

describe('kdfChoice', () => {
  it('is the named profile when no number is given', () => {
    expect(kdfChoice('interactive')).toBe('interactive');
  });

  it("replaces the profile's memory or passes, keeping the other", () => {
    expect(kdfChoice('interactive', { memoryMiB: 32, passes: 3 })).toEqual({ memLimit: 32 * MIB, opsLimit: 3 });
    expect(kdfChoice('interactive', { passes: 4 })).toEqual({ memLimit: KDF_PROFILES.interactive.memLimit, opsLimit: 4 });
    expect(kdfChoice('moderate', { memoryMiB: 128 })).toEqual({ memLimit: 128 * MIB, opsLimit: KDF_PROFILES.moderate.opsLimit });
  });

  it('refuses a cost below the floor, with the flag to change', () => {
    expect(() => kdfChoice('moderate', { memoryMiB: 18 })).toThrow(/--kdf-memory: expected 19 to 4096 MiB, got 18/);
    expect(() => kdfChoice('moderate', { memoryMiB: 5000 })).toThrow(UsageError);
    expect(() => kdfChoice('moderate', { passes: 0 })).toThrow(/--kdf-passes/);
    expect(() => kdfChoice('moderate', { memoryMiB: 32, passes: 1 })).toThrow(/--kdf-passes 1 needs --kdf-memory 46/);
    expect(kdfChoice('moderate', { memoryMiB: 46, passes: 1 })).toEqual({ memLimit: 46 * MIB, opsLimit: 1 });
    expect(() => kdfChoice('fast')).toThrow(/unknown KDF profile/);
  });
});

describe('coffre init --kdf-memory --kdf-passes', () => {
  const dir = tempDir();
  const pw = passwordFile(dir);

  it('writes key files with that cost, and they open the repository', async () => {
    const repo = path.join(dir, 'repo');
    await cliOk(['init', '--repo', repo, '--password-file', pw, '--kdf-memory', '20', '--kdf-passes', '2']);
    const keys = JSON.parse((await cliOk(['key', 'list', '--repo', repo, '--password-file', pw, '--json'])).stdout) as { label: string; kdf: string }[];
    expect(keys.map((k) => [k.label, k.kdf]).sort()).toEqual([
      ['admin', 'argon2id ops=2 mem=20MiB'],
      ['recovery', 'argon2id ops=2 mem=20MiB'],
    ]);
  });

  it('refuses a cost below the floor in one line, exit 2, and creates nothing', async () => {
    const repo = path.join(dir, 'weak');
    const r = await runCli(['init', '--repo', repo, '--password-file', pw, '--kdf-memory', '8']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('coffre: --kdf-memory: expected 19 to 4096 MiB, got 8');
    const list = await runCli(['snapshots', '--repo', repo, '--password-file', pw]);
    expect(list.code).not.toBe(0);
  });
});
