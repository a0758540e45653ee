/**
 * The audit trail end to end through the CLI: every command that touches the repository
 * is recorded (who, where, what, how it ended), paths pseudonymised, the trail copied into
 * the repository, and `coffre audit verify` finds an entry edited, removed, reordered or cut
 * off, in the local log or in the repository copy.
 */
import * as fs from 'node:fs';
import { userInfo } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/entry.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

describe('audit trail', () => {
  it('records every command, copies it into the repository, and detects tampering in either copy', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'dupont-jean');
    const repoDir = path.join(dir, 'repo');
    const state = path.join(dir, 'state');
    const common = ['--repo', repoDir, '--password-file', passwordFile(dir), '--state-dir', state];
    await cliOk(['init', ...common, '--kdf', 'min']);
    write(path.join(src, 'dossier.txt'), 'patient record');
    const snap = (JSON.parse((await cliOk(['backup', '--json', ...common, src])).stdout) as { snapshotId: string }).snapshotId;
    await cliOk(['restore', 'latest', '--target', path.join(dir, 'r'), ...common]);
    await cliOk(['check', ...common]);
    await cliOk(['drill', '--sample', '5', ...common]);
    await cliOk(['forget', '--keep-last', '1', ...common]);
    await cliOk(['prune', '--dry-run', ...common]);
    await cliOk(['key', 'add', '--new-password-file', passwordFile(dir, 'another one'), '--label', 'ops', ...common]);
    const failed = await runCli(['restore', 'ffff', '--target', path.join(dir, 'r2'), ...common]);
    expect(failed.code).not.toBe(0);

    const entries = (await cliOk(['audit', '--json', ...common])).stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    expect(entries.map((e) => [e.seq, e.action, e.result])).toEqual([
      [1, 'backup', 'ok'],
      [2, 'restore', 'ok'],
      [3, 'check', 'ok'],
      [4, 'drill', 'ok'],
      [5, 'forget', 'ok'],
      [6, 'prune', 'ok'],
      [7, 'key-add', 'ok'],
      [8, 'restore', 'failed'],
    ]);
    expect(entries[0]).toMatchObject({ snapshot: snap, user: userInfo().username, counts: { filesNew: 1 } });
    expect(entries[7]!.error).toBe('COFFRE_USAGE');
    // Paths are pseudonymised: the patient's name is nowhere in the log, nor in the listing.
    expect(entries[0]!.paths).toEqual([expect.stringMatching(/^~[0-9a-f]{20}$/)]);
    const logFile = path.join(state, 'audit', fs.readdirSync(path.join(state, 'audit')).find((f) => f.endsWith('.log'))!);
    expect(fs.readFileSync(logFile, 'utf8')).not.toContain('dupont');
    expect((await cliOk(['audit', ...common])).stdout).not.toContain('dupont');

    // The repository holds a copy (check and drill ran on read-only storage: the next writer copied their entries).
    const remote = (await cliOk(['audit', '--repository', '--json', ...common])).stdout.trim().split('\n');
    // All but the failed restore, which waits for the next command that writes (a failure may be the storage's).
    expect(remote).toHaveLength(7);
    expect(remote.join('\n')).not.toContain('dupont');
    const audited = fs.readdirSync(path.join(repoDir, 'audit'));
    for (const f of audited) expect(fs.readFileSync(path.join(repoDir, 'audit', f)).toString('latin1')).not.toMatch(/backup|restore/);
    await cliOk(['audit', 'verify', ...common]);

    const original = fs.readFileSync(logFile, 'utf8');
    const lines = original.trimEnd().split('\n');
    const expectTampered = async (pattern: RegExp) => {
      const r = await runCli(['audit', 'verify', ...common]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(pattern);
      fs.writeFileSync(logFile, original);
    };
    // Edited.
    fs.writeFileSync(logFile, original.replace('"action":"forget"', '"action":"check"'));
    await expectTampered(/entry 5 was altered/);
    // Removed.
    fs.writeFileSync(logFile, `${[...lines.slice(0, 2), ...lines.slice(3)].join('\n')}\n`);
    await expectTampered(/entry 3 is missing/);
    // Reordered.
    fs.writeFileSync(logFile, `${[lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n')}\n`);
    await expectTampered(/entry 2 is out of order/);
    // Cut short (and the head record rewritten to match: the repository copy still tells).
    fs.writeFileSync(logFile, `${lines.slice(0, 4).join('\n')}\n`);
    const headFile = logFile.replace(/\.log$/, '.head');
    const head = fs.readFileSync(headFile, 'utf8');
    fs.rmSync(headFile);
    await expectTampered(/repository copy has \d later entries \(truncated\)/);
    fs.writeFileSync(headFile, head);
    await cliOk(['audit', 'verify', ...common]);

    // The repository copy: an object removed, or altered.
    const victim = path.join(repoDir, 'audit', audited[0]!);
    const bytes = fs.readFileSync(victim);
    fs.rmSync(victim);
    const gone = await runCli(['audit', 'verify', ...common]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/repository copy.*missing/);
    const altered = Buffer.from(bytes);
    altered[altered.length - 20]! ^= 1;
    fs.writeFileSync(victim, altered);
    const bad = await runCli(['audit', 'verify', ...common]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/does not match its name|does not authenticate/);
    fs.writeFileSync(victim, bytes);
    await cliOk(['audit', 'verify', ...common]);
  });
});
