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

  it('keeps tagged snapshots, explains every decision, and the retention floor overrules the flags', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const common = ['--repo', path.join(dir, 'repo'), '--password-file', passwordFile(dir), '--state-dir', path.join(dir, 'state')];
    await cliOk(['init', ...common, '--kdf', 'min']);
    for (let i = 0; i < 3; i++) {
      write(path.join(src, 'f.txt'), `version ${i}`);
      await cliOk(['backup', ...common, ...(i === 0 ? ['--tag', 'before-upgrade'] : []), src]);
    }
    const all = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout) as { id: string }[];

    // The floor (set by the administrator's environment, not a flag): all three are younger than a day.
    const floored = { env: { COFFRE_RETENTION_FLOOR_DAYS: '1' } };
    const text = (await cliOk(['forget', '--keep-last', '1', ...common], floored)).stdout;
    expect(text).toMatch(/retention floor \(COFFRE_RETENTION_FLOOR_DAYS=1\): 2 snapshot\(s\) the policy would forget are kept/);
    expect(text).toMatch(/0 forgotten/);
    expect(JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout)).toHaveLength(3);
    const bad = await runCli(['forget', '--keep-last', '1', ...common], { env: { COFFRE_RETENTION_FLOOR_DAYS: 'lots' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/COFFRE_RETENTION_FLOOR_DAYS: expected a number of days/);

    // --dry-run says why each snapshot is kept; the tag keeps the first one.
    const dry = (await cliOk(['forget', '--keep-last', '1', '--keep-tag', 'before-upgrade', '--dry-run', ...common])).stdout;
    expect(dry).toMatch(new RegExp(`keep +${all[0]!.id.slice(0, 8)} .*because: tag before-upgrade`));
    expect(dry).toMatch(new RegExp(`keep +${all[2]!.id.slice(0, 8)} .*because: last`));
    expect(dry).toMatch(new RegExp(`would forget +${all[1]!.id.slice(0, 8)} .*no rule keeps it`));
    const withinBad = await runCli(['forget', '--keep-within', '3 days', ...common]);
    expect(withinBad.code).toBe(2);
    expect(withinBad.stderr).toMatch(/--keep-within: duration "3 days"/);
    const kept = JSON.parse((await cliOk(['forget', '--keep-within', '1h', '--json', ...common])).stdout);
    expect(kept.forgotten).toBe(0);
    expect(kept.keep[0].reasons).toEqual(['within 1h']);

    const done = JSON.parse((await cliOk(['forget', '--keep-last', '1', '--keep-tag', 'before-upgrade', '--json', ...common])).stdout);
    expect(done.forgotten).toBe(1);
    const left = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout) as { id: string }[];
    expect(left.map((s) => s.id).sort()).toEqual([all[0]!.id, all[2]!.id].sort());
  });
});
