/**
 * The watcher's dirty set: paths seen changing since the last backup took them. Marking
 * is an upsert (first_seen kept, last_seen moved); a backup takes the set and removes
 * what it covered.
 * @module
 */
import type { Db } from './catalog.js';

export interface DirtyPath {
  readonly path: string;
  /** ms since the epoch */
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export class DirtyPaths {
  constructor(private readonly db: Db) {}

  mark(paths: readonly string[], now = Date.now()): void {
    const up = this.db.prepare(
      'INSERT INTO dirty_paths (path, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (path) DO UPDATE SET last_seen = excluded.last_seen',
    );
    this.db.transaction(() => {
      for (const p of paths) up.run(p, now, now);
    }).immediate();
  }

  /** Oldest first. */
  list(limit = Number.MAX_SAFE_INTEGER): DirtyPath[] {
    return this.db
      .prepare<[number], { path: string; first_seen: number; last_seen: number }>('SELECT * FROM dirty_paths ORDER BY first_seen, path LIMIT ?')
      .all(limit)
      .map((r) => ({ path: r.path, firstSeen: r.first_seen, lastSeen: r.last_seen }));
  }

  /** Removes paths a backup covered, unless seen again after `before` (changed during the backup). */
  remove(paths: readonly string[], before = Number.MAX_SAFE_INTEGER): void {
    const del = this.db.prepare('DELETE FROM dirty_paths WHERE path = ? AND last_seen <= ?');
    this.db.transaction(() => {
      for (const p of paths) del.run(p, before);
    }).immediate();
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM dirty_paths').get() as { n: number }).n;
  }

  oldest(): number | undefined {
    return (this.db.prepare('SELECT min(first_seen) AS t FROM dirty_paths').get() as { t: number | null }).t ?? undefined;
  }
}
