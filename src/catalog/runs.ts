/**
 * Run history: one row per backup, rebuild, check or forget (the agent's scheduled ones
 * too), written when it starts ('running') and when it ends. A run whose process died
 * shows as 'interrupted' the next time a writer opens the catalog.
 * @module
 */
import type { Db } from './catalog.js';

export type RunKind = 'backup' | 'rebuild' | 'check' | 'forget';
export type RunResult = 'running' | 'ok' | 'incomplete' | 'failed' | 'interrupted';

export interface RunCounts {
  readonly filesNew?: number;
  readonly filesChanged?: number;
  readonly filesUnmodified?: number;
  readonly bytesRead?: number;
  readonly bytesAdded?: number;
}

export interface RunRecord extends RunCounts {
  readonly id: number;
  readonly kind: RunKind;
  /** ms since the epoch */
  readonly started: number;
  readonly finished: number | null;
  readonly result: RunResult;
  readonly pid: number;
  readonly host: string;
  readonly snapshotId: string | null;
  readonly error: string | null;
}

/** A row of the runs table as SQLite returns it. */
export interface RunDbRow {
  id: number;
  kind: RunKind;
  started: number;
  finished: number | null;
  result: RunResult;
  pid: number;
  host: string;
  snapshot_id: string | null;
  files_new: number | null;
  files_changed: number | null;
  files_unmodified: number | null;
  bytes_read: number | null;
  bytes_added: number | null;
  error: string | null;
}

export class RunHistory {
  constructor(private readonly db: Db) {}

  start(kind: RunKind, who: { pid: number; host: string }, now = Date.now()): number {
    const r = this.db.prepare("INSERT INTO runs (kind, started, result, pid, host) VALUES (?, ?, 'running', ?, ?)").run(kind, now, who.pid, who.host);
    return Number(r.lastInsertRowid);
  }

  finish(id: number, end: { result: Exclude<RunResult, 'running'>; snapshotId?: string; counts?: RunCounts; error?: string }, now = Date.now()): void {
    const c = end.counts ?? {};
    this.db
      .prepare(
        `UPDATE runs SET finished = ?, result = ?, snapshot_id = ?, files_new = ?, files_changed = ?, files_unmodified = ?,
           bytes_read = ?, bytes_added = ?, error = ? WHERE id = ?`,
      )
      .run(now, end.result, end.snapshotId ?? null, c.filesNew ?? null, c.filesChanged ?? null, c.filesUnmodified ?? null, c.bytesRead ?? null, c.bytesAdded ?? null, end.error ?? null, id);
  }

  /** Marks 'running' rows whose process is gone as interrupted; returns how many. */
  closeAbandoned(isGone: (pid: number, host: string) => boolean, now = Date.now()): number {
    const running = this.db.prepare<[], RunDbRow>("SELECT * FROM runs WHERE result = 'running'").all();
    let n = 0;
    for (const r of running) {
      if (!isGone(r.pid, r.host)) continue;
      this.db.prepare("UPDATE runs SET result = 'interrupted', finished = ?, error = 'the process ended before the run finished' WHERE id = ?").run(now, r.id);
      n++;
    }
    return n;
  }

  /** The newest runs first. */
  recent(limit = 20, kind?: RunKind): RunRecord[] {
    const rows = kind
      ? this.db.prepare<[string, number], RunDbRow>('SELECT * FROM runs WHERE kind = ? ORDER BY id DESC LIMIT ?').all(kind, limit)
      : this.db.prepare<[number], RunDbRow>('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit);
    return rows.map(toRunRecord);
  }

  get(id: number): RunRecord | undefined {
    const row = this.db.prepare<[number], RunDbRow>('SELECT * FROM runs WHERE id = ?').get(id);
    return row && toRunRecord(row);
  }

  /** The newest run of a kind that ended with one of `results`. */
  last(kind: RunKind, results: readonly RunResult[] = ['ok', 'incomplete']): RunRecord | undefined {
    const marks = results.map(() => '?').join(', ');
    const row = this.db.prepare<unknown[], RunDbRow>(`SELECT * FROM runs WHERE kind = ? AND result IN (${marks}) ORDER BY id DESC LIMIT 1`).get(kind, ...results);
    return row && toRunRecord(row);
  }
}

export function toRunRecord(r: RunDbRow): RunRecord {
  const opt = (v: number | null) => v ?? undefined;
  return {
    id: r.id,
    kind: r.kind,
    started: r.started,
    finished: r.finished,
    result: r.result,
    pid: r.pid,
    host: r.host,
    snapshotId: r.snapshot_id,
    error: r.error,
    filesNew: opt(r.files_new),
    filesChanged: opt(r.files_changed),
    filesUnmodified: opt(r.files_unmodified),
    bytesRead: opt(r.bytes_read),
    bytesAdded: opt(r.bytes_added),
  };
}
