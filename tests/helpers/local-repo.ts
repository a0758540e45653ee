/**
 * A fresh repository in a temporary directory, opened through the library API with its index
 * in memory: the cheapest real repository for tests of the repository layer itself (the
 * minimum key derivation cost, no recovery key).
 */
import * as path from 'node:path';
import { MemoryBlobIndex } from '../../src/repository/blob-index.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local.js';
import { tempDir } from './tmp.js';

export interface LocalRepository {
  /** the temporary directory; the repository is its `repo` */
  readonly dir: string;
  readonly storage: LocalStorage;
  readonly repo: Repository;
}

export async function newLocalRepository(opts: { workers: number; packSize?: number }): Promise<LocalRepository> {
  const dir = tempDir();
  const storage = new LocalStorage(path.join(dir, 'repo'));
  const pw = Buffer.from('pw');
  await initRepository(storage, pw, { kdf: 'min', recoveryKey: false, ...(opts.packSize ? { packSize: opts.packSize } : {}) });
  const repo = await Repository.open(storage, pw, { index: new MemoryBlobIndex(), workers: opts.workers });
  await repo.loadIndex();
  return { dir, storage, repo };
}
