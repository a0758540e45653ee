/**
 * `coffre prune` (and forget) running while backups run, as separate processes with
 * separate catalogs (an admin host and a server): afterwards every snapshot restores.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk } from '../helpers/cli.js';
import { sleep } from '../helpers/cli-child.js';
import { backup, expectAllRestore, json, newRepo } from '../helpers/prune.js';
import { describeTree, seededBytes, write, type ItemInfo } from '../helpers/tree.js';

describe('prune (local repository)', () => {
  it('runs while backups run (separate processes, as on separate hosts), and afterwards every snapshot restores', async () => {
    const r = await newRepo();
    const expected = new Map<string, Map<string, ItemInfo>>();
    const agent = [...r.common.slice(0, 4), '--state-dir', path.join(r.dir, 'agent-state')];
    // Contents cycle through a few variants, so content that only a forgotten snapshot held
    // comes back: the case where a backup could deduplicate against a pack being pruned.
    const variant = (round: number) => {
      write(path.join(r.src, 'a.bin'), seededBytes(700 * 1024, 100 + (round % 3)));
      write(path.join(r.src, 'b.bin'), seededBytes(300 * 1024, 200 + (round % 4)));
      write(path.join(r.src, `round-${round % 5}.txt`), `round ${round}`);
    };
    variant(0);
    await backup({ ...r, common: agent }, expected);
    let stop = false;
    const backups = (async () => {
      for (let round = 1; !stop; round++) {
        variant(round);
        const want = describeTree(r.src);
        const out = await json(['backup', '--json', ...agent, r.src]);
        expected.set((out.snapshot?.id ?? out.snapshotId ?? out.id) as string, want);
      }
    })();
    let carriedOut = 0;
    const grace = '5s'; // longer than any of these backups runs
    for (let i = 0; i < 40 && carriedOut < 2; i++) {
      const rep = await json(['forget', '--keep-last', '2', '--prune', '--grace', grace, '--repack-threshold', '30', '--json', ...r.common]);
      carriedOut += rep.prune.deleted.plans;
      await sleep(500);
    }
    stop = true;
    await backups;
    expect(carriedOut).toBeGreaterThanOrEqual(2);
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);
    await cliOk(['check', '--read-data', ...agent]); // the agent's catalog followed the deletions
    await expectAllRestore({ ...r, common: agent }, expected);
  });
});
