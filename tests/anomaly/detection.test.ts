/**
 * Mass-change (ransomware) detection end to end through the CLI: a normal day of edits is
 * not flagged; encrypting half the files of a tree in place is. The suspect snapshot is
 * still saved and restorable, status goes CRITICAL with the reason, `snapshots` marks it and
 * names the newest clean one, `forget` keeps the clean ones until `anomaly ack`.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, write } from '../helpers/tree.js';

const FILES = 40;

/** What ransomware does to a file: encrypt it in place. */
function encryptInPlace(file: string): void {
  const c = createCipheriv('aes-256-cbc', randomBytes(32), randomBytes(16));
  writeFileSync(file, Buffer.concat([c.update(readFileSync(file)), c.final()]));
}

describe('mass-change detection', () => {
  it('flags in-place encryption of half a tree, not a normal day; status, snapshots, forget and ack follow', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'dossiers');
    const state = path.join(dir, 'state');
    const common = ['--repo', path.join(dir, 'repo'), '--password-file', passwordFile(dir), '--state-dir', state];
    const backup = async () => {
      const r = await cliOk(['backup', '--json', ...common, src]);
      return { ...(JSON.parse(r.stdout) as { snapshotId: string; suspect: boolean; anomalyReasons: string[] }), stderr: r.stderr };
    };
    const snapshots = async () => JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout) as { id: string; suspect: boolean; tags: string[] }[];
    await cliOk(['init', ...common, '--kdf', 'min']);
    for (let i = 0; i < FILES; i++) write(path.join(src, `sub-${i % 4}`, `patient-${i}.csv`), csvText(4000 + i * 10, i));
    const first = await backup();
    expect(first.suspect).toBe(false);

    // A normal day: a few files edited, one added, one removed, one renamed.
    for (const i of [1, 7, 12]) write(path.join(src, `sub-${i % 4}`, `patient-${i}.csv`), csvText(4200 + i, 100 + i));
    write(path.join(src, 'sub-0', 'patient-new.csv'), csvText(3000, 999));
    rmSync(path.join(src, 'sub-1', 'patient-5.csv'));
    renameSync(path.join(src, 'sub-2', 'patient-2.csv'), path.join(src, 'sub-2', 'patient-2-archive.csv'));
    const normal = await backup();
    expect(normal.suspect).toBe(false);
    expect(normal.anomalyReasons).toEqual([]);

    // The attack: half the files encrypted in place.
    for (let i = 20; i < FILES; i++) encryptInPlace(path.join(src, `sub-${i % 4}`, `patient-${i}.csv`));
    const attacked = await backup();
    expect(attacked.suspect).toBe(true);
    expect(attacked.anomalyReasons.join(' ')).toMatch(/incompressible/);
    expect(attacked.anomalyReasons.join(' ')).toMatch(/mass change/);
    expect(attacked.stderr).toMatch(/SUSPECT/);
    // Reasons never name files (they go to logs and alerts).
    expect(attacked.anomalyReasons.join(' ')).not.toMatch(/patient/);
    // The next backup has nothing new to judge, but what it holds is not clean either.
    const after = await backup();
    expect(after.suspect).toBe(false);

    const list = await snapshots();
    expect(list.map((s) => s.suspect)).toEqual([false, false, true, false]);
    expect(list[2]!.tags).toContain('suspect');
    const text = (await cliOk(['snapshots', ...common])).stdout;
    expect(text).toContain(`${attacked.snapshotId.slice(0, 8)}!`);
    const clean = JSON.parse((await cliOk(['snapshots', '--clean', '--json', ...common])).stdout) as { newestClean: string; firstUnacknowledgedSuspect: string }[];
    expect(clean).toEqual([expect.objectContaining({ newestClean: normal.snapshotId, firstUnacknowledgedSuspect: attacked.snapshotId })]);

    const status = await runCli(['status', '--json', ...common]);
    expect(status.code).toBe(2);
    const report = JSON.parse(status.stdout) as { state: string; checks: { id: string; state: string; message: string }[] };
    expect(report.state).toBe('CRITICAL');
    expect(report.checks.find((c) => c.id === 'anomaly')).toMatchObject({ state: 'CRITICAL', message: expect.stringMatching(/suspect.*incompressible/) });

    // Retention keeps the clean snapshots before the attack, and the suspect one, until ack.
    const guarded = JSON.parse((await cliOk(['forget', '--keep-last', '1', '--json', ...common])).stdout) as { keep: { id: string; reasons: string[] }[]; forgotten: number };
    expect(guarded.forgotten).toBe(0);
    expect(guarded.keep.map((k) => k.id).sort()).toEqual(list.map((s) => s.id).sort());
    expect(guarded.keep.find((k) => k.id === normal.snapshotId)!.reasons).toEqual(['clean before an unacknowledged anomaly']);

    // The suspect snapshot is restorable like any other: the encrypted files as they were found.
    await cliOk(['restore', attacked.snapshotId, '--target', path.join(dir, 'r'), '--verify', ...common]);

    expect(JSON.parse((await cliOk(['anomaly', 'list', '--json', ...common])).stdout)).toMatchObject([{ id: attacked.snapshotId, acknowledged: false }]);
    const ack = JSON.parse((await cliOk(['anomaly', 'ack', '--json', ...common])).stdout) as { acknowledged: string[] };
    expect(ack.acknowledged).toEqual([attacked.snapshotId]);
    expect(JSON.parse((await cliOk(['anomaly', 'list', '--json', ...common])).stdout)).toMatchObject([{ id: attacked.snapshotId, acknowledged: true }]);
    const cleared = JSON.parse((await runCli(['status', '--json', ...common])).stdout) as { checks: { id: string }[] };
    expect(cleared.checks.find((c) => c.id === 'anomaly')).toBeUndefined();

    const done = JSON.parse((await cliOk(['forget', '--keep-last', '1', '--json', ...common])).stdout) as { keep: { id: string }[]; forgotten: number };
    expect(done.keep.map((k) => k.id)).toEqual([after.snapshotId]);
    expect(done.forgotten).toBe(3);
    // The acknowledgement objects (acks/) are part of a sound repository.
    await cliOk(['check', ...common]);
  });

  it('flags files encrypted to a new name (a.csv -> a.csv.locked)', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'dossiers');
    const common = ['--repo', path.join(dir, 'repo'), '--password-file', passwordFile(dir), '--state-dir', path.join(dir, 'state')];
    await cliOk(['init', ...common, '--kdf', 'min']);
    for (let i = 0; i < FILES; i++) write(path.join(src, `patient-${i}.csv`), csvText(2000, i));
    await cliOk(['backup', ...common, src]);
    for (let i = 0; i < 15; i++) {
      const f = path.join(src, `patient-${i}.csv`);
      encryptInPlace(f);
      renameSync(f, `${f}.locked`);
    }
    const s = JSON.parse((await cliOk(['backup', '--json', ...common, src])).stdout) as { suspect: boolean; anomalyReasons: string[] };
    expect(s.suspect).toBe(true);
    expect(s.anomalyReasons.join(' ')).toMatch(/15 files renamed to a new extension, mostly "\.locked"/);
    expect(s.anomalyReasons.join(' ')).toMatch(/incompressible/);
  });
});
