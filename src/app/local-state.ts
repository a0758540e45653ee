/**
 * Local state: where the catalog lives, how a command attaches it to a repository, and
 * what is done before the command runs — take the writer lock, rebuild a missing catalog
 * from the repository, merge new index objects, and index the packs a killed backup left
 * (crash resume). The catalog is only ever a cache (DESIGN invariant 8): when the state
 * directory cannot be used, commands still work, from the repository alone.
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Catalog, CatalogMismatchError } from '../catalog/catalog.js';
import { isDead, WriterLock } from '../catalog/lock.js';
import { describeError } from '../domain/errors.js';
import type { IndexId } from '../domain/ids.js';
import type { BlobIndex } from '../repository/blob-index.js';
import type { RepoConfig } from '../repository/config.js';
import type { IndexContent } from '../repository/index-file.js';
import type { ObjectCache } from '../repository/object-cache.js';
import type { Repository } from '../repository/repository.js';
import { indexJournaledPacks, type ResumeResult } from '../repository/resume.js';
import { rebuildCatalog, type RebuildResult } from './catalog-sync.js';
import { resolveStateDir } from './state-dir.js';

/**
 * - `off`: no catalog; everything from the repository (check and drills: they judge the
 *   repository itself, not a local copy of it).
 * - `read`: use and refresh the catalog; never blocks, never blocked (snapshots, ls, restore…).
 * - `write`: also take the writer lock, rebuild the catalog if it is new, and index packs
 *   left by a killed backup (backup, catalog rebuild).
 */
export type CatalogMode = 'off' | 'read' | 'write';

export interface LocalStateOptions {
  readonly stateDir?: string;
  readonly catalog?: CatalogMode;
  /** Names the command in the lock, for the message a second process shows. */
  readonly command?: string;
  /** How long a writer waits for the lock before giving up with LockedError (default 0). */
  readonly lockWaitMs?: number;
  /** Something the admin should know (catalog unusable, rebuilt, packs resumed); not an error. */
  readonly notice?: (message: string) => void;
  /**
   * false: only open the catalog (and lock it in write mode); do not load the index, rebuild
   * or resume — the caller does (`coffre catalog rebuild`). Default true.
   */
  readonly sync?: boolean;
  /** Sees each index object the open reads (Repository.loadIndex's `onRead`). */
  readonly onIndexRead?: (id: IndexId, content: IndexContent) => void;
}

export interface LocalState {
  readonly catalog: Catalog;
  readonly mode: Exclude<CatalogMode, 'off'>;
  /** Held in `write` mode. */
  readonly lock: WriterLock | undefined;
  /** What opening did: a rebuild of a new catalog, packs indexed after a crash. */
  readonly rebuilt: RebuildResult | undefined;
  readonly resumed: ResumeResult | undefined;
  /** Where to say something the admin should know (from LocalStateOptions). */
  readonly notice?: (message: string) => void;
  close(): void;
}

export { resolveStateDir } from './state-dir.js';

/**
 * Builds the `local` hook of Repository.open: once the config (and so the repository id)
 * is known, opens that repository's catalog. `got` receives the opened catalog, or
 * undefined if the state directory cannot be used (a notice says why).
 */
export function catalogHook(
  opts: LocalStateOptions,
  got: (c: Catalog | undefined) => void,
): ((config: RepoConfig) => { index: BlobIndex; cache: ObjectCache } | undefined) | undefined {
  if ((opts.catalog ?? 'read') === 'off') return undefined;
  return (config) => {
    const c = openCatalog(resolveStateDir(opts.stateDir), config.id, opts.notice);
    got(c);
    return c && { index: c.index, cache: c.objects };
  };
}

/** Opens a repository's catalog; a damaged file is moved aside and started afresh (it is a cache). */
export function openCatalog(stateDir: string, repositoryId: string, notice?: (m: string) => void): Catalog | undefined {
  const file = Catalog.fileFor(stateDir, repositoryId);
  try {
    return Catalog.open(file, { repositoryId });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      const aside = `${file}.damaged-${Date.now()}`;
      try {
        fs.renameSync(file, aside);
        for (const ext of ['-wal', '-shm']) fs.rmSync(`${file}${ext}`, { force: true });
        notice?.(`catalog ${file} was damaged (${describeError(e)}); moved to ${aside}, rebuilding it from the repository`);
        return Catalog.open(file, { repositoryId });
      } catch (e2) {
        e = e2;
      }
    }
    const why = e instanceof CatalogMismatchError ? e.message : `cannot use the catalog ${file}: ${describeError(e)}`;
    notice?.(`${why}; working from the repository alone (slower: no file-change cache)`);
    return undefined;
  }
}

/**
 * Runs after Repository.open: lock (write mode), rebuild if the catalog is new or its last
 * rebuild was interrupted (write mode), merge new index objects (always), then index the
 * packs a killed backup stored (write mode), so that they are reused, not uploaded again.
 */
export async function prepareLocalState(repo: Repository, catalog: Catalog | undefined, opts: LocalStateOptions): Promise<LocalState | undefined> {
  const mode = opts.catalog ?? 'read';
  if (!catalog || mode === 'off') {
    await repo.loadIndex(undefined, opts.onIndexRead);
    return undefined;
  }
  try {
    if (mode === 'read') {
      if (opts.sync !== false) await repo.loadIndex(undefined, opts.onIndexRead);
      return { catalog, mode, lock: undefined, rebuilt: undefined, resumed: undefined, notice: opts.notice, close: () => catalog.close() };
    }
    const w = await beginWriting(repo, catalog, opts);
    return {
      catalog,
      mode,
      ...w,
      notice: opts.notice,
      close() {
        w.lock.release();
        catalog.close();
      },
    };
  } catch (e) {
    catalog.close();
    throw e;
  }
}

export interface Writing {
  readonly lock: WriterLock;
  readonly rebuilt: RebuildResult | undefined;
  readonly resumed: ResumeResult | undefined;
}

/**
 * What must precede every backup through a catalog, in the CLI and in a long-running
 * agent alike: take the writer lock, close the runs of dead processes, complete a catalog
 * that was never completely built, merge new index objects, and index the packs an
 * interrupted backup stored (without this, blobs of a journaled pack that never reached
 * storage could be taken as stored). The caller releases the lock when the backup is done.
 */
export async function beginWriting(repo: Repository, catalog: Catalog, opts: LocalStateOptions): Promise<Writing> {
  const lock = await WriterLock.acquire(catalog.db, {
    command: opts.command ?? 'coffre',
    waitMs: opts.lockWaitMs,
    what: `the catalog of repository ${repo.config.id.slice(0, 8)} in ${path.dirname(catalog.file)}`,
  });
  try {
    if (lock.tookOverFrom) opts.notice?.(`took over the lock left by "${lock.tookOverFrom.command}" (pid ${lock.tookOverFrom.pid}), which is no longer running`);
    catalog.runs.closeAbandoned((pid, host) => isDead({ pid, host }));
    if (opts.sync === false) return { lock, rebuilt: undefined, resumed: undefined };
    let rebuilt: RebuildResult | undefined;
    if (catalog.getMeta('rebuilt_at') === undefined) {
      rebuilt = await rebuildCatalog(repo, catalog, { fromScratch: false, trees: false, unindexedPacks: true });
      // Silent for a new repository: there was nothing to rebuild.
      if (rebuilt.snapshots > 0 || rebuilt.unindexedPacks > 0) {
        const found = rebuilt.unindexedPacks ? `, ${rebuilt.unindexedPacks} pack(s) of interrupted backups found` : '';
        opts.notice?.(
          `no complete catalog for this repository in ${path.dirname(catalog.file)}: built it from the repository (${rebuilt.snapshots} snapshot(s)${found}); unchanged files are read once more`,
        );
      }
    } else await repo.loadIndex(undefined, opts.onIndexRead);
    const resumed = await indexJournaledPacks(repo, catalog.index);
    if (resumed.adopted > 0) opts.notice?.(`resumed: ${resumed.adopted} pack(s) stored by an interrupted backup are indexed and reused`);
    return { lock, rebuilt, resumed };
  } catch (e) {
    lock.release();
    throw e;
  }
}
