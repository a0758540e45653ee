/**
 * Restore drill results (written by `coffre drill` and the agent; read by status and
 * metrics). Local memory, not a cache: the repository does not hold them.
 * @module
 */
import type { Db } from './catalog.js';

export interface DrillRecord {
  readonly id: number;
  /** ms since the epoch */
  readonly started: number;
  readonly finished: number;
  readonly snapshotId: string;
  readonly result: 'ok' | 'failed';
  readonly files: number;
  readonly bytes: number;
  readonly mismatches: number;
  readonly durationMs: number;
  /** estimated time to restore everything, extrapolated from the drill */
  readonly rtoEstimateMs: number | null;
  /** the full drill report, as JSON text */
  readonly reportJson: string | null;
}

interface Row {
  id: number;
  started: number;
  finished: number;
  snapshot_id: string;
  result: 'ok' | 'failed';
  files: number;
  bytes: number;
  mismatches: number;
  duration_ms: number;
  rto_estimate_ms: number | null;
  report_json: string | null;
}

export class DrillRuns {
  constructor(private readonly db: Db) {}

  add(d: Omit<DrillRecord, 'id'>): number {
    const r = this.db
      .prepare(
        `INSERT INTO drill_runs (started, finished, snapshot_id, result, files, bytes, mismatches, duration_ms, rto_estimate_ms, report_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(d.started, d.finished, d.snapshotId, d.result, d.files, d.bytes, d.mismatches, d.durationMs, d.rtoEstimateMs, d.reportJson);
    return Number(r.lastInsertRowid);
  }

  /** The newest first. */
  recent(limit = 20): DrillRecord[] {
    return this.db.prepare<[number], Row>('SELECT * FROM drill_runs ORDER BY started DESC, id DESC LIMIT ?').all(limit).map(toRecord);
  }

  last(result?: 'ok' | 'failed'): DrillRecord | undefined {
    const row = result
      ? this.db.prepare<[string], Row>('SELECT * FROM drill_runs WHERE result = ? ORDER BY started DESC, id DESC LIMIT 1').get(result)
      : this.db.prepare<[], Row>('SELECT * FROM drill_runs ORDER BY started DESC, id DESC LIMIT 1').get();
    return row && toRecord(row);
  }
}

function toRecord(r: Row): DrillRecord {
  return {
    id: r.id,
    started: r.started,
    finished: r.finished,
    snapshotId: r.snapshot_id,
    result: r.result,
    files: r.files,
    bytes: r.bytes,
    mismatches: r.mismatches,
    durationMs: r.duration_ms,
    rtoEstimateMs: r.rto_estimate_ms,
    reportJson: r.report_json,
  };
}
