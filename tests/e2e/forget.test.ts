/**
 * `coffre forget`: a retention policy deletes snapshot objects only; what is kept still
 * restores and the repository still checks.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees, write } from '../helpers/tree.js';

describe('forget', () => {
  it('keeps what the policy says, says what it would do on --dry-run, and leaves a sound repository', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const common = ['--repo', path.join(dir, 'repo'), '--password-file', passwordFile(dir), '--state-dir', path.join(dir, 'state')];
    await cliOk(['init', ...common, '--kdf', 'min']);
    for (let i = 0; i < 3; i++) {
      write(path.join(src, `file-${i}.txt`), `version ${i}`);
      await cliOk(['backup', ...common, src]);
    }
    const before = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout) as { id: string }[];
    expect(before).toHaveLength(3);

    const refused = await runCli(['forget', ...common]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/at least one --keep-\* rule/);

    const dry = JSON.parse((await cliOk(['forget', '--keep-last', '1', '--dry-run', '--json', ...common])).stdout);
    expect(dry.forget).toHaveLength(2);
    expect(dry.forgotten).toBe(0);
    expect(JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout)).toHaveLength(3);

    const done = JSON.parse((await cliOk(['forget', '--keep-last', '1', '--json', ...common])).stdout);
    expect(done.forgotten).toBe(2);
    expect(done.keep.map((k: { id: string }) => k.id)).toEqual([before[2]!.id]);
    const after = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout) as { id: string }[];
    expect(after.map((s) => s.id)).toEqual([before[2]!.id]);

    await cliOk(['check', '--read-data', ...common]);
    const target = path.join(dir, 'restored');
    await cliOk(['restore', 'latest', '--target', target, ...common]);
    expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
  });
});
