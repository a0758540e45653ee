/**
 * The catalog: the agent's fast local memory of one repository, in one SQLite file of the
 * state directory (`<state-dir>/<repository id>.sqlite`). It is a cache (DESIGN invariant
 * 8): delete it and nothing is lost; `coffre catalog rebuild` reconstructs the repository
 * part from the repository alone.
 *
 * WAL mode: readers (status, `snapshots`, another CLI call) never block a running backup
 * and a backup never blocks them. Writes are short transactions; one process at a time
 * holds the writer lock (lock.ts) for the operations that write to the repository.
 *
 * This layer knows SQLite and plain domain types only: no crypto, no storage. It
 * implements the ports the repository and archiver define (BlobIndex, ObjectCache,
 * FileChangeCache).
 * @module
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoffreError } from '../domain/errors.js';
import { CACHE_KIB, SqliteBlobIndex } from './blob-index.js';
import { DirtyPaths } from './dirty.js';
import { DrillRuns } from './drills.js';
import { SqliteFileCache } from './file-cache.js';
import { SqliteObjectCache } from './objects.js';
import { RunHistory } from './runs.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export type Db = Database.Database;

/** The catalog file was written by a newer Coffre, or is not a catalog of this repository. */
export class CatalogMismatchError extends CoffreError {
  override readonly code = 'COFFRE_CATALOG_MISMATCH';
}

export interface CatalogOpenOptions {
  /** The repository this catalog mirrors; checked against the file's own record. */
  readonly repositoryId: string;
  /** How long a write waits for another process's transaction (default 15 s). */
  readonly busyTimeoutMs?: number;
}

export class Catalog {
  readonly index: SqliteBlobIndex;
  readonly objects: SqliteObjectCache;
  readonly files: SqliteFileCache;
  readonly runs: RunHistory;
  readonly drills: DrillRuns;
  readonly dirty: DirtyPaths;

  private constructor(
    readonly db: Db,
    readonly file: string,
    /** The file did not exist (or had no schema) before this open. */
    readonly created: boolean,
  ) {
    this.index = new SqliteBlobIndex(db);
    this.objects = new SqliteObjectCache(db);
    this.files = new SqliteFileCache(db);
    this.runs = new RunHistory(db);
    this.drills = new DrillRuns(db);
    this.dirty = new DirtyPaths(db);
  }

  /** The catalog file for a repository in a state directory. */
  static fileFor(stateDir: string, repositoryId: string): string {
    return path.join(stateDir, `${repositoryId}.sqlite`);
  }

  /** Opens (creating if needed, mode 0600 in a 0700 directory) and migrates a catalog file. */
  static open(file: string, opts: CatalogOpenOptions): Catalog {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // SQLite creates files with the umask's mode; create it private first (-wal and -shm inherit it).
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    const db = new Database(file, { timeout: opts.busyTimeoutMs ?? 15_000 });
    try {
      db.pragma('journal_mode = WAL');
      // A cache may lose its last transactions on power loss, never its consistency.
      db.pragma('synchronous = NORMAL');
      // The page cache is an upper bound, not an allocation, but a backup of many small
      // files fills it: 64 MiB of a 200,000-file backup's peak memory. 16 MiB by default;
      // a bulk merge of index objects (BlobIndex.bulk) raises it to 64 MiB meanwhile.
      db.pragma(`cache_size = -${CACHE_KIB}`);
      // Checkpoints every 32 MiB of WAL instead of 4 MiB: blob ids are random, inserts touch
      // pages all over the chunk index (with the larger cache: merging a million blobs took
      // about 2.5x less CPU).
      db.pragma('wal_autocheckpoint = 8192');
      db.pragma('journal_size_limit = 67108864');
      const created = migrate(db, file);
      const meta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
      const recorded = meta.get('repository_id')?.value;
      if (recorded === undefined) {
        db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('repository_id', opts.repositoryId);
      } else if (recorded !== opts.repositoryId) {
        throw new CatalogMismatchError(`catalog ${file} belongs to repository ${recorded.slice(0, 8)}, not ${opts.repositoryId.slice(0, 8)}`);
      }
      return new Catalog(db, file, created);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  getMeta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  setMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Row counts and file size, for `coffre catalog info` and status. */
  stats(): CatalogStats {
    const count = (table: string) => (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    let bytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) bytes += fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;
    return {
      file: this.file,
      bytes,
      schemaVersion: SCHEMA_VERSION,
      indexObjects: count('index_objects'),
      packs: count('packs'),
      unindexedPacks: this.index.unindexedPackCount(),
      blobs: count('blobs'),
      snapshots: count('snapshots'),
      trees: count('trees'),
      files: count('files'),
      runs: count('runs'),
      rebuiltAt: this.getMeta('rebuilt_at') ?? null,
    };
  }

  close(): void {
    if (!this.db.open) return;
    this.files.flush();
    this.db.close();
  }
}

export interface CatalogStats {
  readonly file: string;
  readonly bytes: number;
  readonly schemaVersion: number;
  readonly indexObjects: number;
  readonly packs: number;
  readonly unindexedPacks: number;
  readonly blobs: number;
  readonly snapshots: number;
  readonly trees: number;
  readonly files: number;
  readonly runs: number;
  readonly rebuiltAt: string | null;
}

/** Applies missing migrations in one IMMEDIATE transaction; true if the schema was created. */
function migrate(db: Db, file: string): boolean {
  const version = () => Number(db.pragma('user_version', { simple: true }));
  if (version() === SCHEMA_VERSION) return false;
  return db
    .transaction(() => {
      // Read again inside the write lock: another process may have migrated meanwhile.
      const from = version();
      if (from > SCHEMA_VERSION) {
        throw new CatalogMismatchError(`catalog ${file} has schema version ${from}, newer than this Coffre's (${SCHEMA_VERSION})`, {
          hint: 'use the newer Coffre, or another --state-dir',
        });
      }
      for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return from === 0;
    })
    .immediate();
}
