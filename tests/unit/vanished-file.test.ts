/**
 * A file deleted between the moment the walk lists it and the moment it is read (a server
 * that keeps writing and deleting, as the agent sees all day) is left out with a warning:
 * the snapshot is right without it, and the backup is not "incomplete". Both the small-file
 * path (read on the main thread) and the large-file path (read in a worker) are covered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import type { FileChangeCache } from '../../src/archiver/file-cache.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local.js';
import { tempDir } from '../helpers/tmp.js';
import { seededBytes, write } from '../helpers/tree.js';

describe('a file deleted during the backup', () => {
  const dir = tempDir();
  const password = Buffer.from('pw');
  let repo: Repository;
  afterAll(async () => {
    await repo?.close();
  });

  it('is left out with a warning, not counted as unreadable', async () => {
    const storage = new LocalStorage(path.join(dir, 'repo'));
    await initRepository(storage, password, { kdf: 'min', chunker: { minSize: 1024, avgSize: 4096, maxSize: 16384 }, recoveryKey: false });
    repo = await Repository.open(storage, password, { workers: 1 });
    const src = path.join(dir, 'src');
    write(path.join(src, 'keep.txt'), 'kept');
    write(path.join(src, 'small-gone.txt'), 'small');
    write(path.join(src, 'large-gone.bin'), seededBytes(64 * 1024, 7)); // above minSize: read by a worker
    // The cache is asked right after the lstat and before the read: the moment to delete it.
    const deleting: FileChangeCache = {
      lookup: (p) => {
        if (p.endsWith('-gone.txt') || p.endsWith('-gone.bin')) fs.rmSync(p);
        return undefined;
      },
      record: () => undefined,
    };
    const warnings: string[] = [];
    const r = await backup(repo, { paths: [src], fileCache: deleting, events: { warning: (p, m) => warnings.push(`${path.basename(p)}: ${m}`) } });
    expect(r.failures, JSON.stringify(warnings)).toEqual([]);
    expect(warnings.sort()).toEqual(['large-gone.bin: deleted during the backup; left out', 'small-gone.txt: deleted during the backup; left out']);
    expect(r.summary.totalFiles).toBe(1);
  });
});
