/**
 * Decoded trees kept in memory are bounded by their entries, not by their count: a backup
 * or restore of directories holding thousands of files each must not keep every tree it
 * read. A tree pushed out of the cache reads back the same.
 */
import { describe, expect, it } from 'vitest';
import type { BlobId } from '../../src/domain/ids.js';
import { encodeTree, type TreeNode } from '../../src/repository/tree.js';
import { WriteSession } from '../../src/repository/write-session.js';
import { newLocalRepository } from '../helpers/local-repo.js';

function bigTree(files: number, tag: string): TreeNode[] {
  return Array.from({ length: files }, (_, i) => ({
    name: `${tag}-${String(i).padStart(6, '0')}.csv`,
    type: 'file' as const,
    mode: 0o640,
    mtimeNs: `${1_700_000_000_000_000_000n + BigInt(i)}`,
    uid: 0,
    gid: 0,
    size: 0,
    content: [],
  }));
}

describe('the decoded-tree cache', () => {
  it('keeps at most 50,000 entries, and a tree it dropped reads back the same', async () => {
    const { repo } = await newLocalRepository({ workers: 0 });
    try {
      const session = new WriteSession(repo);
      const ids: BlobId[] = [];
      for (const tag of ['a', 'b', 'c']) {
        const bytes = encodeTree(bigTree(20_000, tag));
        const id = repo.blobId(bytes);
        ids.push(id);
        await session.saveBlob('tree', id, bytes);
      }
      await session.flush();

      const first = await repo.readTree(ids[0]!);
      expect(repo.cachedTreeEntries).toBe(20_001);
      await repo.readTree(ids[1]!);
      await repo.readTree(ids[2]!); // 60,003 entries in all: the first tree goes
      expect(repo.cachedTreeEntries).toBe(40_002);
      const again = await repo.readTree(ids[0]!);
      expect(again).not.toBe(first); // decoded anew, not the cached object
      expect(again).toEqual(first);
      expect(repo.cachedTreeEntries).toBeLessThanOrEqual(50_000);
      repo.dropTreeCache();
      expect(repo.cachedTreeEntries).toBe(0);
    } finally {
      await repo.close();
    }
  });
});
