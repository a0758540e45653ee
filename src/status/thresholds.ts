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
 * A check or drill is late (WARNING) once its last success is older than this many of its
 * schedule's intervals: one interval, plus room for the run itself and a queue behind a
 * long backup.
 */
export const SCHEDULE_GRACE = 1.5;
