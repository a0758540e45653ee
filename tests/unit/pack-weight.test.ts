/**
 * Packs are closed by size, and a pack of tiny blobs also by their count (each blob weighs
 * at least 1 KiB for that decision), so that the memory a pack holds until it is stored
 * stays bounded whatever the blob sizes. Also: tiny blobs sealed on the calling thread and
 * larger ones in the worker threads restore the same. Index objects are written by blob
 * count as well as by pack count, so that the entries waiting for one stay bounded too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import type { LocalStorage } from '../../src/storage/local.js';
import { newLocalRepository, type LocalRepository } from '../helpers/local-repo.js';
import { describeTree, diffTrees } from '../helpers/tree.js';

/** 300 files of `rows` CSV rows (about 35 bytes each) in `src`, and a repository with 64 KiB packs. */
async function tinyFiles(rows: number): Promise<LocalRepository & { src: string }> {
  const r = await newLocalRepository({ workers: 1, packSize: 64 * 1024 });
  const src = path.join(r.dir, 'src');
  fs.mkdirSync(src);
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(src, `p${i}.csv`), `${i},PATIENT-${(i * 7919) % 100_003},1970-01-01\n`.repeat(rows));
  return { ...r, src };
}

async function packKeys(storage: LocalStorage): Promise<string[]> {
  const packs: string[] = [];
  for await (const o of storage.list('data/')) packs.push(o.key);
  return packs;
}

describe('pack closing', () => {
  it('closes packs of tiny blobs by count, and restores them', async () => {
    // 300 files of about 100 bytes: ~45 KB sealed, under the 64 KiB pack size, but 300 KiB by weight.
    const { dir, src, storage, repo } = await tinyFiles(3);
    // and a few larger files, sealed in the worker threads
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(src, `big${i}.csv`), `row ${i} `.repeat(2000 + i));
    try {
      const r = await backup(repo, { paths: [src] });
      // 303 data blobs of weight >= 1 KiB close a 64 KiB pack at least every 64 blobs.
      expect((await packKeys(storage)).length).toBeGreaterThanOrEqual(5);
      const target = path.join(dir, 'out');
      const res = await restoreTree(repo, r.snapshot.tree, { target, verify: true });
      expect(res.failures).toEqual([]);
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
    } finally {
      await repo.close();
    }
  });

  it('writes an index object once enough blobs wait for one, however few packs hold them', async () => {
    const { dir, src, storage, repo } = await tinyFiles(1);
    try {
      const r = await backup(repo, { paths: [src], session: { indexMaxBlobs: 100 } });
      // packs of at most 64 blobs: fewer than 16, so by pack count alone one index object at the end
      const packs = await packKeys(storage);
      expect(packs.length).toBeGreaterThanOrEqual(5);
      expect(packs.length).toBeLessThan(16);
      const ids = await repo.listIndexIds();
      const listed = await Promise.all(ids.map(async (id) => (await repo.readIndex(id)).packs.flatMap((p) => p.blobs.filter((b) => b.type === 'data'))));
      expect(ids.length).toBeGreaterThanOrEqual(3);
      expect(listed.flat().length).toBe(300); // every file's blob, each in one index object
      const res = await restoreTree(repo, r.snapshot.tree, { target: path.join(dir, 'out'), verify: true });
      expect(res.failures).toEqual([]);
      expect(res.verifiedFiles).toBe(300);
    } finally {
      await repo.close();
    }
  });
});
