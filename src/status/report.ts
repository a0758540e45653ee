/**
 * The health report: an overall state, and one verdict per aspect with its one-line reason.
 * The states and their exit codes are the Nagios/Icinga plugin convention, so that
 * `coffre status` drops into existing monitoring unchanged.
 * @module
 */

export type HealthState = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export const EXIT_CODE: Readonly<Record<HealthState, 0 | 1 | 2 | 3>> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/**
 * Which state wins when aspects disagree. Not knowing ranks above a warning (Icinga's
 * order): "cannot tell whether backups work" must not hide behind "a drill is late".
 */
const RANK: Readonly<Record<HealthState, number>> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

export function worst(states: Iterable<HealthState>): HealthState {
  let w: HealthState = 'OK';
  for (const s of states) if (RANK[s] > RANK[w]) w = s;
  return w;
}

export function byRank(a: HealthState, b: HealthState): number {
  return RANK[b] - RANK[a];
}

export type CheckId = 'catalog' | 'recovery-point' | 'last-backup' | 'sources' | 'check' | 'drill' | 'agent' | 'watcher' | 'jobs' | 'anomaly';

export interface Verdict {
  readonly id: CheckId;
  readonly state: HealthState;
  /** one line, no file names below the source roots */
  readonly message: string;
}

export interface HealthReport {
  readonly state: HealthState;
  readonly exitCode: 0 | 1 | 2 | 3;
  /** the reasons of the non-OK verdicts, worst first; a short positive line when all is well */
  readonly summary: string;
  /** every aspect judged, in a stable order */
  readonly verdicts: readonly Verdict[];
}
