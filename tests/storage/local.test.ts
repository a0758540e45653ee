/** The Storage contract against the local directory backend, and against the wrappers around it. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStorage } from '../../src/storage/local.js';
import { withLimits } from '../../src/storage/limiter.js';
import { withRetry } from '../../src/storage/retry.js';
import type { Storage } from '../../src/storage/storage.js';
import { storageContract, type ContractSubject } from './contract.js';

async function localSubject(wrap: (s: Storage) => Storage = (s) => s): Promise<ContractSubject> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'coffre-local-'));
  const local = new LocalStorage(path.join(dir, 'repo'));
  await local.create();
  return { storage: wrap(local), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

storageContract('LocalStorage', () => localSubject());
storageContract('retry(LocalStorage)', () => localSubject((s) => withRetry(s, { baseDelayMs: 1 })));
storageContract('limits(LocalStorage), 3 in flight, 64 MiB/s', () =>
  localSubject((s) => withLimits(s, { maxConcurrent: 3, uploadBytesPerSecond: 64 * 1024 * 1024 })),
);
