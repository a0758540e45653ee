/**
 * A restore walks the snapshot as it restores it (plan.ts walkItems, restorer.ts restoreTree):
 * the walk reads a bounded number of trees ahead of what it has handed out, so that memory
 * does not grow with the snapshot; items come in depth-first order, each directory before
 * what it holds; an include path the snapshot lacks fails before anything is written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { UsageError } from '../../src/domain/errors.js';
import { planItems, walkItems, type PlannedItem } from '../../src/restorer/plan.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { newLocalRepository } from '../helpers/local-repo.js';
import { csvText, describeTree, diffTrees } from '../helpers/tree.js';

const DIRS = 60;

async function repoWithManyDirs() {
  const local = await newLocalRepository({ workers: 1 });
  const src = path.join(local.dir, 'src');
  for (let i = 0; i < DIRS; i++) {
    const d = path.join(src, `d${String(i).padStart(2, '0')}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'p.csv'), csvText(200 + i, i));
  }
  const { snapshot } = await backup(local.repo, { paths: [src] });
  return { ...local, src, root: snapshot.tree };
}

describe('walking a snapshot for a restore', () => {
  it('reads a bounded number of trees ahead, and yields directories before what they hold', async () => {
    const { repo, src, root } = await repoWithManyDirs();
    try {
      let treeReads = 0;
      const readTree = repo.readTree.bind(repo);
      repo.readTree = (...args: Parameters<typeof readTree>) => {
        treeReads++;
        return readTree(...args);
      };
      const ancestors = src.split('/').length; // the trees of "/" and of each directory down to src
      const items: PlannedItem[] = [];
      let readsAtFirstFile: number | undefined;
      for await (const run of walkItems(repo, root, [])) {
        for (const item of run) {
          if (item.node.type === 'file' && readsAtFirstFile === undefined) readsAtFirstFile = treeReads;
          items.push(item);
        }
      }
      // the whole snapshot has ancestors + DIRS trees; the first file came after a handful
      expect(treeReads).toBe(ancestors + DIRS);
      expect(readsAtFirstFile).toBeLessThanOrEqual(ancestors + 1 + 16);
      const seen = new Set<string>(['/']);
      for (const item of items) {
        expect(seen.has(path.posix.dirname(item.snapshotPath))).toBe(true); // its directory came first
        seen.add(item.snapshotPath);
      }
      expect(items.filter((i) => i.node.type === 'file')).toHaveLength(DIRS);
      // planItems is the same walk, kept whole
      expect((await planItems(repo, root, [])).order.map((i) => i.snapshotPath)).toEqual(items.map((i) => i.snapshotPath));
    } finally {
      await repo.close();
    }
  });

  it('leaves no tree read in flight once a walk stopped early has ended', async () => {
    const { repo, root } = await repoWithManyDirs();
    try {
      let inFlight = 0;
      const readTree = repo.readTree.bind(repo);
      repo.readTree = async (...args: Parameters<typeof readTree>) => {
        inFlight++;
        try {
          await new Promise((r) => setTimeout(r, 5)); // a slow storage: the reads ahead are still out
          return await readTree(...args);
        } finally {
          inFlight--;
        }
      };
      const walk = walkItems(repo, root, []);
      let files = 0;
      for await (const run of walk) {
        files += run.filter((i) => i.node.type === 'file').length;
        if (files > 0) break; // stops the walk: its return() ends the generator
      }
      expect(inFlight).toBe(0);
    } finally {
      await repo.close();
    }
  });

  it('restores include paths with their ancestors, and refuses an unknown one before writing anything', async () => {
    const { dir, repo, src, root } = await repoWithManyDirs();
    try {
      const out = path.join(dir, 'out');
      const unknown = restoreTree(repo, root, { target: out, include: [path.join(src, 'd07'), path.join(src, 'nowhere')] });
      await expect(unknown).rejects.toThrow(UsageError);
      await expect(unknown).rejects.toThrow(/not in the snapshot: .*nowhere/);
      expect(fs.existsSync(path.join(out, src, 'd07'))).toBe(false);

      const r = await restoreTree(repo, root, { target: out, include: [path.join(src, 'd07'), path.join(src, 'd59', 'p.csv')], verify: true });
      expect(r.failures).toEqual([]);
      expect(r.files).toBe(2);
      expect(r.verifiedFiles).toBe(2);
      expect(fs.readdirSync(path.join(out, src)).sort()).toEqual(['d07', 'd59']);
      expect(diffTrees(describeTree(path.join(src, 'd07')), describeTree(path.join(out, src, 'd07')))).toEqual([]);
    } finally {
      await repo.close();
    }
  });
});
