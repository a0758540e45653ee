/**
 * A read-only view of a catalog, for `coffre status` and the agent's metrics: opened with
 * SQLITE_OPEN_READONLY, never migrated, never locked. In WAL mode a reader neither waits
 * for a running backup nor holds it up; all reads of one `read()` run in one transaction, so
 * they see one consistent moment of the history.
 *
 * What status needs that the repository holds (Object Lock, key files, deduplication) is
 * recorded in `meta` by writers at their last contact with the repository (META_FACTS), so
 * that status never needs the storage, nor the passphrase.
 * @module
 */
import Database from 'better-sqlite3';
import { isDead, WriterLock, type LockHolder } from './lock.js';
import { DrillRuns, type DrillRecord } from './drills.js';
import { toRunRecord, type RunDbRow, type RunRecord } from './runs.js';
import { SCHEMA_VERSION } from './schema.js';

/** meta: the repository location (never credentials) the catalog belongs to, to find it without unlocking. */
export const META_LOCATION = 'location';
/** meta: RecordedAnomaly as JSON, while suspect snapshots are not acknowledged (src/app/anomaly.ts). */
export const META_ANOMALY = 'anomaly';

export interface RecordedAnomaly {
  /** ms since the epoch: the first suspect snapshot not acknowledged */
  readonly at: number;
  readonly snapshots: readonly string[];
  /** one line: the newest suspect snapshot and why */
  readonly message: string;
}

/** meta: RecordedFacts as JSON. */
export const META_FACTS = 'repository_facts';

/**
 * The run history has no column for "found damage": a check that ran and found damage is
 * recorded as failed with this error text (the agent's check job), one that could not run
 * with the error that stopped it.
 */
export const CHECK_DAMAGE_ERROR = 'damage found';

export interface RecordedFacts {
  /** ms since the epoch */
  readonly recordedAt: number;
  readonly objectLock: { readonly mode: string; readonly days: number } | null;
  readonly keyFiles: number;
  readonly dataBlobs: number;
  /** data blobs' plaintext size, each counted once */
  readonly uniqueBytes: number;
  /** their size as stored (compressed, sealed) */
  readonly encodedBytes: number;
}

/** One entry of the run history (see runs.ts). */
export type RunRow = RunRecord;

export interface CatalogSnapshot {
  readonly repositoryId: string | null;
  readonly location: string | null;
  readonly lastBackup: RunRow | undefined;
  readonly lastBackupSuccess: RunRow | undefined;
  /** the paths the last successful backup saved (when its snapshot is cached) */
  readonly lastBackupPaths: readonly string[] | undefined;
  readonly lastBackupFailure: RunRow | undefined;
  readonly backupFailuresInARow: number;
  readonly failingSince: number | null;
  /** a backup recorded as running by a process that is still alive */
  readonly backupRunning: RunRow | undefined;
  readonly firstRun: number | null;
  readonly lastCheck: RunRow | undefined;
  readonly lastCheckSuccess: RunRow | undefined;
  readonly lastDrill: DrillRecord | undefined;
  readonly lastDrillSuccess: DrillRecord | undefined;
  readonly pending: { readonly count: number; readonly oldest: number | null; readonly under: readonly number[] };
  readonly snapshots: number;
  readonly packs: number;
  readonly storedBytes: number;
  readonly logicalBytes: number;
  readonly latestSnapshot: { readonly id: string; readonly time: string; readonly paths: readonly string[] } | undefined;
  readonly facts: RecordedFacts | undefined;
  readonly anomaly: RecordedAnomaly | undefined;
  readonly writer: LockHolder | undefined;
}

/** Why a file cannot be read as a catalog (not one, or written by a newer Coffre). */
export class CatalogUnreadableError extends Error {}

export class CatalogReader {
  private constructor(
    readonly file: string,
    private readonly db: Database.Database,
  ) {}

  /** Opens read-only; throws if the file is missing, not a catalog, or of a newer schema. */
  static open(file: string): CatalogReader {
    // A short busy timeout: a read in WAL mode waits only in rare recovery cases, and status must answer.
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
    try {
      const version = Number(db.pragma('user_version', { simple: true }));
      if (version === 0) throw new CatalogUnreadableError(`${file} is not a catalog (no schema)`);
      if (version > SCHEMA_VERSION) throw new CatalogUnreadableError(`catalog ${file} has schema version ${version}, newer than this Coffre's (${SCHEMA_VERSION})`);
      return new CatalogReader(file, db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  meta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  /** Everything status needs, read in one transaction. `roots`: count changed paths under each. */
  read(roots: readonly string[] = []): CatalogSnapshot {
    return this.db.transaction(() => this.readAll(roots))();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private readAll(roots: readonly string[]): CatalogSnapshot {
    const db = this.db;
    const run = (where: string, ...args: unknown[]) => {
      const r = db.prepare<unknown[], RunDbRow>(`SELECT * FROM runs WHERE ${where} ORDER BY id DESC LIMIT 1`).get(...args);
      return r && toRunRecord(r);
    };
    const lastBackupSuccess = run("kind = 'backup' AND result IN ('ok', 'incomplete')");
    const streak = db
      .prepare<[number], { n: number; since: number | null }>("SELECT count(*) AS n, min(finished) AS since FROM runs WHERE kind = 'backup' AND result = 'failed' AND id > ?")
      .get(lastBackupSuccess?.id ?? 0)!;
    const running = run("kind = 'backup' AND result = 'running'");
    const packs = db.prepare<[], { n: number; bytes: number }>('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM packs').get()!;
    const snaps = db
      .prepare<[], { n: number; bytes: number }>("SELECT count(*) AS n, coalesce(sum(json_extract(json, '$.summary.totalBytes')), 0) AS bytes FROM snapshots")
      .get()!;
    const latest = db.prepare<[], { id: Buffer; time: string; json: string }>('SELECT id, time, json FROM snapshots ORDER BY time DESC LIMIT 1').get();
    const mine = lastBackupSuccess?.snapshotId
      ? db.prepare<[Buffer], string>('SELECT json FROM snapshots WHERE id = ?').pluck().get(Buffer.from(lastBackupSuccess.snapshotId, 'hex'))
      : undefined;
    const dirty = db.prepare<[], { n: number; oldest: number | null }>('SELECT count(*) AS n, min(first_seen) AS oldest FROM dirty_paths').get()!;
    // Paths below a root sort between "root/" and "root0" ("0" follows "/"): an index range, not a scan.
    const under = db.prepare<[string, string, string], number>('SELECT count(*) FROM dirty_paths WHERE path = ? OR (path >= ? AND path < ?)').pluck();
    const drills = new DrillRuns(db);
    const facts = this.meta(META_FACTS);
    return {
      repositoryId: this.meta('repository_id') ?? null,
      location: this.meta(META_LOCATION) ?? null,
      lastBackup: run("kind = 'backup' AND result != 'running'"),
      lastBackupSuccess,
      lastBackupPaths: mine === undefined ? undefined : snapshotPaths(mine),
      lastBackupFailure: run("kind = 'backup' AND result = 'failed'"),
      backupFailuresInARow: streak.n,
      failingSince: streak.since,
      backupRunning: running && !isDead({ pid: running.pid, host: running.host }) ? running : undefined,
      firstRun: db.prepare<[], number | null>('SELECT min(started) FROM runs').pluck().get() ?? null,
      lastCheck: run("kind = 'check' AND result != 'running'"),
      lastCheckSuccess: run("kind = 'check' AND result = 'ok'"),
      lastDrill: drills.last(),
      lastDrillSuccess: drills.last('ok'),
      pending: {
        count: dirty.n,
        oldest: dirty.oldest,
        under: roots.map((r) => {
          const dir = r.endsWith('/') ? r : `${r}/`;
          return under.get(r, dir, `${dir.slice(0, -1)}0`) ?? 0;
        }),
      },
      snapshots: snaps.n,
      packs: packs.n,
      storedBytes: packs.bytes,
      logicalBytes: snaps.bytes,
      latestSnapshot: latest && { id: latest.id.toString('hex'), time: latest.time, paths: snapshotPaths(latest.json) },
      facts: facts === undefined ? undefined : parseFacts(facts),
      anomaly: parseAnomaly(this.meta(META_ANOMALY)),
      writer: WriterLock.holder(db),
    };
  }
}



function snapshotPaths(json: string): string[] {
  try {
    const p = (JSON.parse(json) as { paths?: unknown }).paths;
    return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function parseAnomaly(text: string | undefined): RecordedAnomaly | undefined {
  if (text === undefined) return undefined;
  try {
    const a = JSON.parse(text) as Partial<RecordedAnomaly>;
    if (typeof a.at !== 'number' || typeof a.message !== 'string') return undefined;
    return { at: a.at, message: a.message, snapshots: Array.isArray(a.snapshots) ? a.snapshots.filter((s) => typeof s === 'string') : [] };
  } catch {
    // Unreadable, but something was flagged: say so rather than nothing.
    return { at: 0, message: 'an anomaly was recorded (unreadable record); run "coffre anomaly list"', snapshots: [] };
  }
}

/** Facts written by another version may lack fields: unknown ones are dropped, not trusted. */
function parseFacts(text: string): RecordedFacts | undefined {
  try {
    const f = JSON.parse(text) as Partial<RecordedFacts>;
    if (typeof f.recordedAt !== 'number') return undefined;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    const lock = f.objectLock && typeof f.objectLock.mode === 'string' ? { mode: f.objectLock.mode, days: num(f.objectLock.days) } : null;
    return { recordedAt: f.recordedAt, objectLock: lock, keyFiles: num(f.keyFiles), dataBlobs: num(f.dataBlobs), uniqueBytes: num(f.uniqueBytes), encodedBytes: num(f.encodedBytes) };
  } catch {
    return undefined;
  }
}
