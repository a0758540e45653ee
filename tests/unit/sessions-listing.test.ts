/**
 * `sessions/` is listed once when a command opens the repository and loads its index (it was
 * listed twice, one request more per command on S3), and again by every later `loadIndex` of
 * a long-running process, so that a write-only session created meanwhile is still seen.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBlobIndex } from '../../src/repository/blob-index.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local.js';
import { countingStorage } from '../helpers/counting-storage.js';
import { tempDir } from '../helpers/tmp.js';

describe('sessions/ listing', () => {
  it('is listed once by open + loadIndex, and again by a later loadIndex, which sees a new session', async () => {
    const local = new LocalStorage(path.join(tempDir(), 'repo'));
    const pw = Buffer.from('pw');
    await initRepository(local, pw, { kdf: 'min', recoveryKey: false });
    const { storage, count } = countingStorage(local);

    const repo = await Repository.open(storage, pw, { index: new MemoryBlobIndex(), workers: 0 });
    await repo.loadIndex();
    expect(count('list', 'sessions/')).toBe(1);
    expect(count('list', 'index/')).toBe(1);
    expect(repo.blobKeysNeedHeaders).toBe(false);

    // A write-only host starts a session while this process stays open (an agent between runs).
    await local.put(`sessions/${'ab'.repeat(32)}`, Buffer.from('sealed session key'));
    await repo.loadIndex();
    expect(count('list', 'sessions/')).toBe(2);
    expect(repo.blobKeysNeedHeaders).toBe(true);
    await repo.close();
  });
});
