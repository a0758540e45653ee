/**
 * Opening a repository from what the user gave: the location (flag, then
 * COFFRE_REPOSITORY), the passphrase source, and whether storage may be written. Every
 * command and the agent go through here, so they all open repositories the same way.
 * @module
 */
import { UsageError } from '../domain/errors.js';
import type { Repository } from '../repository/repository.js';
import { readLocks, unlockWith } from '../repository/unlock.js';
import { openStorage as openBackend, type OpenStorageOptions } from '../storage/open-storage.js';
import type { Storage } from '../storage/storage.js';
import type { Catalog } from '../catalog/catalog.js';
import type { LocalState, LocalStateOptions } from './local-state.js';
import type { AuditSpec } from './audit.js';
import { readKeyHint, writeKeyHint } from './key-hint.js';
import { getPassword } from './secrets.js';
import { resolveStateDir } from './state-dir.js';

export interface RepoOptions extends LocalStateOptions {
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
  /**
   * Loads what the command needs next (its part of the engine) while Argon2id runs; a
   * failure fails the open.
   */
  readonly preload?: () => Promise<unknown>;
}

export function repositoryLocation(opts: RepoOptions): string {
  const loc = opts.repo ?? process.env.COFFRE_REPOSITORY;
  if (!loc) throw new UsageError('no repository given', { hint: 'use --repo LOCATION or set COFFRE_REPOSITORY' });
  return loc;
}

export function openStorage(location: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  return openBackend(location, opts);
}

/** Opens and unlocks the repository and loads its index (in memory: no catalog). */
export async function openRepository(opts: RepoOptions): Promise<Repository> {
  return (await openRepositoryWithState({ ...opts, catalog: 'off' })).repo;
}

/**
 * Opens and unlocks the repository with its local catalog (`opts.catalog`, default `read`;
 * `off` for read-only storage: checks and drills judge the repository itself), and loads
 * its index. The caller closes `local` (it may hold the writer lock), then the repository.
 */
export async function openRepositoryWithState(opts: RepoOptions): Promise<{ repo: Repository; local: LocalState | undefined }> {
  const location = repositoryLocation(opts);
  const storage = await openStorage(location, { ...opts.storage, readOnly: opts.readOnly });
  const password = await getPassword(opts.passwordFile);
  const localOpts: LocalStateOptions = { ...opts, catalog: opts.catalog ?? (opts.readOnly ? 'off' : 'read') };
  let catalog: Catalog | undefined;
  const stateDir = resolveStateDir(opts.stateDir);
  try {
    // Argon2id runs on a libuv thread for much of a command's fixed cost: the repository,
    // the catalog and the codecs (dozens of modules, native addons) load meanwhile.
    const locks = await readLocks(storage);
    const unlocking = unlockWith(storage, locks, password, (repositoryId) => readKeyHint(stateDir, repositoryId));
    unlocking.catch(() => undefined);
    const [{ Repository }, { catalogHook, prepareLocalState }, { recordContact }] = await Promise.all([
      import('../repository/repository.js'),
      import('./local-state.js'),
      import('./repo-facts.js'),
      opts.preload?.(),
    ]).catch(async (e: unknown) => {
      await unlocking.catch(() => undefined); // the passphrase is wiped below: not while the KDF reads it
      throw e;
    });
    const repo = await Repository.openUnlocked(storage, await unlocking, { workers: opts.workers, local: catalogHook(localOpts, (c) => (catalog = c)) });
    try {
      writeKeyHint(stateDir, repo.config.id, repo.keyId);
      const local = await prepareLocalState(repo, catalog, localOpts);
      // Writers leave what `coffre status` needs to find and describe this repository without unlocking it.
      if (local?.mode === 'write') await recordContact(repo, local.catalog, location, opts.notice);
      return { repo, local };
    } catch (e) {
      await repo.close();
      throw e;
    }
  } catch (e) {
    catalog?.close();
    await storage.close();
    throw e;
  } finally {
    password.fill(0);
  }
}

/**
 * Runs `fn` with an open repository and always releases it (lock, catalog, worker threads,
 * connections). With `audit`, the command is recorded in the audit trail, ok or failed.
 */
export async function withRepository<T>(
  opts: RepoOptions & { readonly audit?: AuditSpec<T> },
  fn: (repo: Repository, local: LocalState | undefined) => Promise<T>,
): Promise<T> {
  const { repo, local } = await openRepositoryWithState(opts);
  try {
    if (opts.audit) {
      const { audited } = await import('./audit.js');
      return await audited(repo, opts, opts.audit, () => fn(repo, local));
    }
    return await fn(repo, local);
  } finally {
    local?.close();
    await repo.close();
    await repo.storage.close();
  }
}
