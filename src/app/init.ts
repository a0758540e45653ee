/**
 * `coffre init`: create a repository at a location.
 * @module
 */
import { UsageError } from '../domain/errors.js';
import type { KdfChoice } from '../crypto/kdf.js';
import { initRepository, type InitResult } from '../repository/init.js';
import type { RetentionMode } from '../storage/storage.js';
import { openStorage, repositoryLocation, type RepoOptions } from './repo.js';
import { getPassword } from './secrets.js';

export interface InitRequest extends RepoOptions {
  readonly kdf?: KdfChoice;
  readonly objectLockMode?: RetentionMode;
  readonly objectLockDays?: number;
  readonly compressionLevel?: number;
}

export async function initRepo(req: InitRequest): Promise<InitResult & { location: string }> {
  const location = repositoryLocation(req);
  if ((req.objectLockMode === undefined) !== (req.objectLockDays === undefined)) {
    throw new UsageError('--object-lock-mode and --object-lock-days go together');
  }
  const storage = await openStorage(location, req.storage);
  try {
    const password = await getPassword(req.passwordFile, { confirm: true });
    const objectLock = req.objectLockMode ? { mode: req.objectLockMode, days: req.objectLockDays! } : undefined;
    const result = await initRepository(storage, password, {
      kdf: req.kdf ?? 'moderate',
      objectLock,
      compressionLevel: req.compressionLevel,
    });
    password.fill(0);
    return { ...result, location: storage.location };
  } finally {
    await storage.close();
  }
}
