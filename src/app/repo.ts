/**
 * Opening a repository from what the user gave: the location (flag, then
 * COFFRE_REPOSITORY), the passphrase source, and whether storage may be written. Every
 * command and the agent go through here, so they all open repositories the same way.
 * @module
 */
import { UsageError } from '../domain/errors.js';
import { Repository } from '../repository/repository.js';
import { openStorage as openBackend, type OpenStorageOptions } from '../storage/open-storage.js';
import type { Storage } from '../storage/storage.js';
import { getPassword } from './secrets.js';

export interface RepoOptions {
  /** repository location: a directory, or s3:http(s)://host[:port]/bucket[/prefix] */
  readonly repo?: string;
  readonly passwordFile?: string;
  readonly stateDir?: string;
  /** worker threads for the blob codec (default: one per core) */
  readonly workers?: number;
  /** open storage so that every write is refused (drills, checks) */
  readonly readOnly?: boolean;
  /** S3 credentials files, region, limits (from the agent config) */
  readonly storage?: OpenStorageOptions;
}

export function repositoryLocation(opts: RepoOptions): string {
  const loc = opts.repo ?? process.env.COFFRE_REPOSITORY;
  if (!loc) throw new UsageError('no repository given', { hint: 'use --repo LOCATION or set COFFRE_REPOSITORY' });
  return loc;
}

export function openStorage(location: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  return openBackend(location, opts);
}

/** Opens and unlocks the repository and loads its index. */
export async function openRepository(opts: RepoOptions): Promise<Repository> {
  const storage = await openStorage(repositoryLocation(opts), { ...opts.storage, readOnly: opts.readOnly });
  const password = await getPassword(opts.passwordFile);
  try {
    const repo = await Repository.open(storage, password, { workers: opts.workers });
    await repo.loadIndex();
    return repo;
  } catch (e) {
    await storage.close();
    throw e;
  } finally {
    password.fill(0);
  }
}

/** Runs `fn` with an open repository and always releases it (worker threads, connections). */
export async function withRepository<T>(opts: RepoOptions, fn: (repo: Repository) => Promise<T>): Promise<T> {
  const repo = await openRepository(opts);
  try {
    return await fn(repo);
  } finally {
    await repo.close();
    await repo.storage.close();
  }
}
