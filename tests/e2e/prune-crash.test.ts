/**
 * `coffre prune` killed (SIGKILL) at each of its steps: the repository checks clean and
 * restores every time, and the next run finishes the job.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk } from '../helpers/cli.js';
import { spawnCli, waitWhileRunning, type RunningCli } from '../helpers/cli-child.js';
import { backup, expectAllRestore, json, newRepo } from '../helpers/prune.js';
import { seededBytes, write, type ItemInfo } from '../helpers/tree.js';

describe('prune (local repository)', () => {
  it('killed (SIGKILL) at every step, leaves a repository that checks clean and restores, and the next run finishes the job', async () => {
    const r = await newRepo();
    const expected = new Map<string, Map<string, ItemInfo>>();
    write(path.join(r.src, 'old.bin'), seededBytes(2 * 1024 * 1024, 11));
    write(path.join(r.src, 'keep.bin'), seededBytes(200 * 1024, 12));
    // One worker thread fills one pack with both files, so that the prune has a pack to repack.
    const first = await backup(r, expected, { COFFRE_WORKERS: '1' });
    fs.rmSync(path.join(r.src, 'old.bin'));
    write(path.join(r.src, 'more.bin'), seededBytes(1024 * 1024, 13));
    await backup(r, expected);
    await cliOk(['forget', '--keep-last', '1', ...r.common]);
    expected.delete(first);

    const killAt = async (step: string, grace: string): Promise<void> => {
      const pause = path.join(r.dir, `pause-${step}`);
      const cli: RunningCli = spawnCli(['prune', '--grace', grace, ...r.common], { COFFRE_TEST_PAUSE_IN_PRUNE: `${step}:${pause}` });
      const reached = await waitWhileRunning(cli, async () => fs.existsSync(pause), 10);
      expect(reached, `prune ended before "${step}": ${cli.exited() ? (await cli.done).stderr : ''}`).toBe(true);
      cli.child.kill('SIGKILL');
      expect((await cli.done).signal).toBe('SIGKILL');
      fs.rmSync(pause, { force: true });
      await cliOk(['check', '--read-data', ...r.common]);
      await expectAllRestore(r, expected);
    };
    // Phase 1: after the repack, then after superseding (before the plan object exists).
    await killAt('repacked', '1h');
    await killAt('superseded', '1h');
    await cliOk(['prune', '--grace', '1h', ...r.common]); // writes the plan
    expect(fs.readdirSync(path.join(r.dir, 'repo', 'prune')).length).toBeGreaterThanOrEqual(1);
    // Phase 2: after deleting index objects, then after deleting packs (before the plan goes).
    await killAt('indexes-deleted', '0s');
    await killAt('packs-deleted', '0s');
    for (let i = 0; i < 3; i++) await cliOk(['prune', '--grace', '0s', ...r.common]);
    const last = await json(['prune', '--dry-run', '--json', ...r.common]);
    expect(last.pending).toEqual([]);
    expect(last.planned).toBeUndefined();
    expect(fs.readdirSync(path.join(r.dir, 'repo', 'prune'))).toEqual([]);
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);
    // Nothing of old.bin is left: the repository holds about what the one snapshot needs.
    const stored = fs
      .readdirSync(path.join(r.dir, 'repo', 'data'))
      .flatMap((d) => fs.readdirSync(path.join(r.dir, 'repo', 'data', d)).map((f) => fs.statSync(path.join(r.dir, 'repo', 'data', d, f)).size))
      .reduce((a, b) => a + b, 0);
    expect(stored).toBeLessThan(2 * 1024 * 1024);
  });
});
