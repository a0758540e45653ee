/**
 * The file-change cache: for each path backed up, the identity it had (size, mtime and
 * ctime in ns, inode, device) and the content ids it had then. A backup that finds the
 * same identity reuses the ids without reading the file (the archiver also checks every
 * id is still in the index).
 *
 * Per-file cost is one prepared SELECT. Writes are batched: `record` and the "seen in this
 * run" marks are queued and committed in one transaction every BATCH files and at
 * `flush`; a crash loses at most the last batch, which only costs reading those files
 * again.
 *
 * Rows of paths that are gone (deleted, excluded) are pruned after complete runs, so the
 * table follows the source tree instead of growing forever. Marking every row "seen" in
 * every run would cost a write per file per run; instead runs are grouped in epochs of
 * EPOCH_RUNS runs, a row is marked once per epoch (the first time a run of the epoch sees
 * it), and a complete run prunes the rows under its roots not seen since the epoch began.
 * A deleted file's row thus lingers for at most one epoch.
 * @module
 */
import type { FileChangeCache, FileIdentity } from '../archiver/file-cache.js';
import type { BlobId } from '../domain/ids.js';
import type { Db } from './catalog.js';

type Stmt<P extends unknown[] = unknown[], R = unknown> = import('better-sqlite3').Statement<P, R>;

const BATCH = 2000;
const EPOCH_RUNS = 16;

type Key = [path: string, size: bigint, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, dev: bigint];

export class SqliteFileCache implements FileChangeCache {
  private run = 0;
  /** The first run of the current epoch; rows with an older `run` are re-marked when seen. */
  private epoch = 0;
  private records: { path: string; id: FileIdentity; content: Buffer }[] = [];
  private seen: string[] = [];
  private readonly q: {
    lookup: Stmt<Key, [Buffer, number]>;
    upsert: Stmt<[...Key, Buffer, number]>;
    touch: Stmt<[number, string]>;
  };

  constructor(private readonly db: Db) {
    this.q = {
      lookup: db
        .prepare<Key, [Buffer, number]>('SELECT content, run FROM files WHERE path = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ? AND ino = ? AND dev = ?')
        .raw(),
      upsert: db.prepare(
        `INSERT INTO files (path, size, mtime_ns, ctime_ns, ino, dev, content, run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
           ino = excluded.ino, dev = excluded.dev, content = excluded.content, run = excluded.run`,
      ),
      touch: db.prepare('UPDATE files SET run = ? WHERE path = ?'),
    };
  }

  /** Starts marking the rows this run sees with `run` (a run-history id), for `pruneUnseen`. */
  beginRun(run: number): void {
    this.flush();
    const meta = this.db.prepare<[], string>("SELECT value FROM meta WHERE key = 'file_cache_epoch'").pluck();
    const epoch = Number(meta.get() ?? 0);
    this.epoch = epoch > 0 && epoch <= run && run - epoch < EPOCH_RUNS ? epoch : run;
    if (this.epoch !== epoch) {
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('file_cache_epoch', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(this.epoch));
    }
    this.run = run;
  }

  lookup(path: string, id: FileIdentity): readonly BlobId[] | undefined {
    const row = this.q.lookup.get(path, i64(id.size), i64(id.mtimeNs), i64(id.ctimeNs), i64(id.ino), i64(id.dev));
    if (row === undefined) return undefined;
    const [content, seenIn] = row;
    if (this.run && seenIn < this.epoch) {
      this.seen.push(path);
      if (this.seen.length >= BATCH) this.flush();
    }
    const ids: BlobId[] = [];
    for (let at = 0; at + 32 <= content.length; at += 32) ids.push(content.toString('hex', at, at + 32) as BlobId);
    return ids;
  }

  record(path: string, id: FileIdentity, content: readonly BlobId[]): void {
    const buf = Buffer.allocUnsafe(content.length * 32);
    content.forEach((c, i) => buf.write(c, i * 32, 32, 'hex'));
    this.records.push({ path, id, content: buf });
    if (this.records.length >= BATCH) this.flush();
  }

  /** Commits queued records and marks in one transaction. */
  flush(): void {
    if (this.records.length === 0 && this.seen.length === 0) return;
    const records = this.records;
    const seen = this.seen;
    this.records = [];
    this.seen = [];
    this.db.transaction(() => {
      for (const r of records) {
        this.q.upsert.run(r.path, i64(r.id.size), i64(r.id.mtimeNs), i64(r.id.ctimeNs), i64(r.id.ino), i64(r.id.dev), r.content, this.run);
      }
      for (const p of seen) this.q.touch.run(this.run, p);
    }).immediate();
  }

  /**
   * After a complete run over `roots`: forgets the paths under them not seen since the
   * epoch began (deleted, excluded, or changed and unreadable).
   */
  pruneUnseen(roots: readonly string[]): number {
    this.flush();
    const run = this.epoch;
    if (!run) return 0;
    const del = this.db.prepare('DELETE FROM files WHERE run < ? AND (path = ? OR (path >= ? AND path < ?))');
    let n = 0;
    this.db.transaction(() => {
      for (const root of roots) {
        const prefix = root.endsWith('/') ? root : `${root}/`;
        n += del.run(run, root, prefix, `${prefix.slice(0, -1)}0`).changes;
      }
    }).immediate();
    return n;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM files').get() as { n: number }).n;
  }

  /** Forgets everything (a file cache can always be dropped: files are then read again). */
  clear(): void {
    this.records = [];
    this.seen = [];
    this.db.exec('DELETE FROM files');
  }
}

/** SQLite integers are signed 64-bit; inode and device numbers are unsigned 64-bit. */
function i64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
