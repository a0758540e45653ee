/**
 * The numbers behind the verdicts, in one place because the agent depends on them too.
 * @module
 */

/** A recovery point this old, as a fraction of the objective, is a WARNING (CRITICAL at 1). */
export const RPO_WARNING_FRACTION = 0.8;

/**
 * An idle agent (nothing changed) still backs up once the last backup is this fraction of
 * the objective old. It must stay well below RPO_WARNING_FRACTION, by at least one backup
 * schedule interval, or every idle server would turn WARNING (then CRITICAL) once an hour
 * before its forced backup came round.
 */
export const IDLE_BACKUP_FRACTION = 0.5;

/**
 * A check or drill is late (WARNING) once its last success is older than its schedule's
 * interval plus a grace: half an interval, and at least SCHEDULE_GRACE_MIN_MS, room for the
 * run itself and for waiting behind a long backup (the agent runs one job at a time).
 */
export const SCHEDULE_GRACE = 0.5;
export const SCHEDULE_GRACE_MIN_MS = 10 * 60_000;

export function lateAfterMs(intervalMs: number): number {
  return intervalMs + Math.max(intervalMs * SCHEDULE_GRACE, SCHEDULE_GRACE_MIN_MS);
}
