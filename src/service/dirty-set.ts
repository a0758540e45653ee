/**
 * The set of paths changed since the last backup. The watcher's events are debounced here
 * (collected for a moment, then written in one transaction) and persisted in the catalog's
 * dirty_paths table, so that a restart does not forget them. Until the catalog can be opened
 * (the repository unreachable since the agent started), they are kept in memory and moved
 * into it once it can; a restart meanwhile loses them, and the rescan at start finds them.
 *
 * The set tells the agent whether a backup is needed, never what to back up: a backup is
 * always of the whole sources (the file-change cache makes unchanged files nearly free), and
 * clears only the paths it covered that were not seen changing again after it started.
 *
 * Too many distinct paths at once (a mass change, or a watcher gone wrong) collapse into
 * their source roots: "something below here changed" needs no more than that.
 * @module
 */
import type { Logger } from './logger.js';

/** The dirty set's store; the catalog's DirtyPaths implements it. */
export interface DirtyStore {
  mark(paths: readonly string[], now?: number): void;
  list(limit?: number): readonly { readonly path: string; readonly firstSeen: number; readonly lastSeen: number }[];
  remove(paths: readonly string[], before?: number): void;
  count(): number;
  oldest(): number | undefined;
}

export interface DirtySetOptions {
  readonly debounceMs: number;
  readonly maxPending: number;
  /** the source root a path belongs to */
  readonly rootOf: (path: string) => string | undefined;
  readonly log: Logger;
  readonly onChange?: () => void;
}

/** An in-memory DirtyStore, while the catalog is not available. */
class MemoryStore implements DirtyStore {
  readonly rows = new Map<string, { firstSeen: number; lastSeen: number }>();
  mark(paths: readonly string[], now = Date.now()): void {
    for (const p of paths) this.rows.set(p, { firstSeen: this.rows.get(p)?.firstSeen ?? now, lastSeen: now });
  }
  list(limit = Number.MAX_SAFE_INTEGER) {
    return [...this.rows].map(([path, r]) => ({ path, ...r })).sort((a, b) => a.firstSeen - b.firstSeen).slice(0, limit);
  }
  remove(paths: readonly string[], before = Number.MAX_SAFE_INTEGER): void {
    for (const p of paths) if ((this.rows.get(p)?.lastSeen ?? Infinity) <= before) this.rows.delete(p);
  }
  count(): number {
    return this.rows.size;
  }
  oldest(): number | undefined {
    return this.list(1)[0]?.firstSeen;
  }
}

export class DirtySet {
  private pending = new Set<string>();
  private store: DirtyStore = new MemoryStore();
  private timer: NodeJS.Timeout | undefined;
  private lastChange = 0;

  constructor(private readonly opts: DirtySetOptions) {}

  /** A change seen by the watcher: written after the debounce delay. */
  note(path: string): void {
    this.lastChange = Date.now();
    this.pending.add(path);
    if (this.pending.size > this.opts.maxPending) this.overflow('too many changes at once');
    this.timer ??= setTimeout(() => this.flush(), this.opts.debounceMs);
  }

  /** Paths found changed by a rescan, or roots to back up: written at once. */
  mark(paths: readonly string[]): void {
    for (const p of paths) this.pending.add(p);
    this.flush();
  }

  /** Writes what is pending. A store that refuses (catalog gone) falls back to memory. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    if (this.store.count() + this.pending.size > this.opts.maxPending) this.overflow('more changed paths than watch.maxPendingPaths');
    const paths = [...this.pending];
    this.pending = new Set();
    try {
      this.store.mark(paths);
    } catch (e) {
      this.opts.log.warn({ error: String(e) }, 'cannot record changed paths in the catalog; keeping them in memory');
      this.store = new MemoryStore();
      this.store.mark(paths);
    }
    this.opts.onChange?.();
  }

  /** Uses the catalog's table from now on (undefined: memory), moving what memory held into it. */
  attach(store: DirtyStore | undefined): void {
    const before = this.store;
    this.store = store ?? new MemoryStore();
    if (before instanceof MemoryStore && store && before.count()) store.mark([...before.rows.keys()]);
    this.opts.onChange?.();
  }

  count(): number {
    return this.safe(() => this.store.count(), 0) + this.pending.size;
  }

  oldest(): number | undefined {
    return this.safe(() => this.store.oldest(), undefined);
  }

  /**
   * Waits until no change has been seen for `quietMs` (files still being written are not
   * read until they are stable), but no longer than `maxMs`: a file written without pause
   * (a log) must not hold back the backup of everything else. Returns how long it waited.
   */
  async settle(quietMs: number, maxMs: number, stop: () => boolean): Promise<number> {
    const start = Date.now();
    while (!stop() && Date.now() - this.lastChange < quietMs && Date.now() - start < maxMs) {
      await new Promise((r) => setTimeout(r, Math.min(250, quietMs)));
    }
    return Date.now() - start;
  }

  /**
   * After a snapshot of `roots` taken from `startedAt`: forgets the paths it covered, except
   * those it could not read and those seen changing again since it started.
   */
  clearCovered(roots: readonly string[], startedAt: number, failed: readonly string[]): number {
    this.flush();
    const keep = new Set(failed);
    const covered = (p: string) => roots.some((r) => p === r || p.startsWith(r === '/' ? '/' : `${r}/`));
    const done = this.store.list().filter((r) => covered(r.path) && !keep.has(r.path)).map((r) => r.path);
    this.store.remove(done, startedAt);
    this.opts.onChange?.();
    return done.length;
  }

  /** Forgets paths under no configured source (a source removed from the config). */
  dropUnwatched(): void {
    const gone = this.store.list().filter((r) => this.opts.rootOf(r.path) === undefined).map((r) => r.path);
    if (gone.length) this.store.remove(gone);
  }

  close(): void {
    this.flush();
  }

  private overflow(why: string): void {
    const roots = new Set<string>();
    for (const p of this.pending) {
      const r = this.opts.rootOf(p);
      if (r !== undefined) roots.add(r);
    }
    this.opts.log.warn({ paths: this.pending.size, roots: roots.size }, `watcher overflow: ${why}; the whole source is marked for backup`);
    this.pending = roots;
  }

  private safe<T>(f: () => T, fallback: T): T {
    try {
      return f();
    } catch {
      return fallback;
    }
  }
}
