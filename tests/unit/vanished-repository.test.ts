/**
 * A repository that disappears under a running process (an unmounted volume, a wrong
 * prefix) must not look like a prune that emptied the index: the blob index mirror is
 * kept and the process is told the repository is gone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { RepositoryNotFoundError } from '../../src/domain/errors.js';
import { MemoryBlobIndex } from '../../src/repository/blob-index.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local.js';
import { tempDir } from '../helpers/tmp.js';

describe('a repository that vanishes', () => {
  it('is reported as gone, and the index mirror is kept', async () => {
    const dir = tempDir();
    const root = path.join(dir, 'repo');
    const storage = new LocalStorage(root);
    const pw = Buffer.from('pw');
    await initRepository(storage, pw, { kdf: 'min', recoveryKey: false });
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'a'), 'some content');
    const index = new MemoryBlobIndex();
    const repo = await Repository.open(storage, pw, { index, workers: 0 });
    try {
      await repo.loadIndex();
      await backup(repo, { paths: [path.join(dir, 'src')] });
      await repo.loadIndex();
      const blobs = index.blobCount();
      expect(blobs).toBeGreaterThan(0);
      fs.renameSync(root, `${root}.unmounted`);
      await expect(repo.loadIndex()).rejects.toBeInstanceOf(RepositoryNotFoundError);
      expect(index.blobCount()).toBe(blobs);
      expect(fs.existsSync(root)).toBe(false);
    } finally {
      await repo.close();
    }
  });
});
