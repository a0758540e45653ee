/**
 * Blob ids name bytes, not types: a user can write a file whose content is exactly the
 * listing (tree) of a directory that will exist later. The directory's tree then reuses the
 * file's data blob, and everything must still back up, restore and check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { checkRepository } from '../../src/checker/checker.js';
import { MemoryBlobIndex } from '../../src/repository/blob-index.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { encodeTree, type TreeNode } from '../../src/repository/tree.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { LocalStorage } from '../../src/storage/local.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees } from '../helpers/tree.js';

describe('a file whose bytes are a future directory listing', () => {
  it('is shared by the directory tree without breaking backup, restore or check', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const parked = path.join(dir, 'parked');
    fs.mkdirSync(src);
    fs.mkdirSync(path.join(parked, 'd'), { recursive: true });
    fs.writeFileSync(path.join(parked, 'd', 'e'), '');
    const st = fs.lstatSync(path.join(parked, 'd', 'e'), { bigint: true });
    const node: TreeNode = { name: 'e', type: 'file', mode: Number(st.mode & 0o7777n), mtimeNs: st.mtimeNs.toString(), uid: Number(st.uid), gid: Number(st.gid), size: 0, content: [] };
    fs.writeFileSync(path.join(src, 'listing.txt'), encodeTree([node]));

    const storage = new LocalStorage(path.join(dir, 'repo'));
    const pw = Buffer.from('pw');
    await initRepository(storage, pw, { kdf: 'min', recoveryKey: false });
    const repo = await Repository.open(storage, pw, { index: new MemoryBlobIndex(), workers: 0 });
    try {
      await repo.loadIndex();
      await backup(repo, { paths: [src] });
      fs.renameSync(path.join(parked, 'd'), path.join(src, 'd'));
      const second = await backup(repo, { paths: [src] });
      const third = await backup(repo, { paths: [src] }); // reads the second as its parent
      expect(third.summary.filesUnmodified).toBe(2);
      const target = path.join(dir, 'out');
      const r = await restoreTree(repo, second.snapshot.tree, { target, verify: true });
      expect(r.failures).toEqual([]);
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
      const check = await checkRepository(repo, { readData: true });
      expect(check.findings).toEqual([]);
    } finally {
      await repo.close();
    }
  });
});
