/**
 * Backups: how old the recovery point is against the objective, and how the last attempt
 * went. The run history (catalog) is the durable record; the agent's live view adds the
 * failures that never reached it (storage down before the repository could be opened).
 * @module
 */
import type { HealthInputs } from './inputs.js';
import type { Verdict } from './report.js';
import { RPO_WARNING_FRACTION } from './thresholds.js';
import { span, when } from './words.js';

export interface Judge {
  readonly i: HealthInputs;
  /** a recorded message made safe to show (redact.ts) */
  readonly safe: (message: string) => string;
}

interface Attempt {
  readonly at: number;
  readonly outcome: 'ok' | 'incomplete' | 'failed';
  readonly error: string | null;
  readonly failures: number;
  readonly since: number | null;
  readonly retryAt: number | null;
}

/** The newest backup that ended (ok, incomplete or failed), from the run history or the agent. */
export function lastAttempt({ i }: Judge): Attempt | null {
  const c = i.catalog.available ? i.catalog : null;
  const run = c?.lastBackup;
  const fromCatalog: Attempt | null =
    run && run.finished !== null && (run.result === 'ok' || run.result === 'incomplete' || run.result === 'failed')
      ? { at: run.finished, outcome: run.result, error: run.error, failures: c.backupFailuresInARow, since: c.failingSince, retryAt: null }
      : null;
  const job = i.agent.jobs.backup;
  const live = job?.lastRun;
  const fromAgent: Attempt | null =
    live && (live.outcome === 'ok' || live.outcome === 'incomplete' || live.outcome === 'failed')
      ? {
          at: live.finished,
          outcome: live.outcome,
          error: live.error?.message ?? null,
          failures: job.consecutiveFailures,
          since: null,
          retryAt: i.agent.running ? job.retryAt : null,
        }
      : null;
  if (!fromAgent) return fromCatalog;
  if (!fromCatalog || fromAgent.at >= fromCatalog.at) {
    // The same failing streak is in both when the failures reached the catalog: keep its start.
    return fromAgent.outcome === 'failed' && fromCatalog?.outcome === 'failed'
      ? { ...fromAgent, failures: Math.max(fromAgent.failures, fromCatalog.failures), since: fromCatalog.since }
      : fromAgent;
  }
  return fromCatalog;
}

export function judgeLastBackup(j: Judge): Verdict | null {
  const a = lastAttempt(j);
  if (!a) return null;
  const ago = span(j.i.now - a.at);
  if (a.outcome === 'failed') {
    const streak = a.failures > 1 ? ` (${a.failures} in a row${a.since !== null ? ` since ${when(a.since)}` : ''})` : '';
    const retry = a.retryAt !== null ? `; next attempt ${when(a.retryAt)}` : '';
    return { id: 'last-backup', state: 'CRITICAL', message: `last backup failed ${ago} ago${streak}: ${j.safe(a.error ?? 'no reason recorded')}${retry}` };
  }
  if (a.outcome === 'incomplete') {
    return { id: 'last-backup', state: 'WARNING', message: `last backup, ${ago} ago, left out files it could not read (the log gives the reason for each)` };
  }
  return { id: 'last-backup', state: 'OK', message: `last backup succeeded ${ago} ago` };
}

export function judgeRecoveryPoint({ i }: Judge): Verdict | null {
  if (!i.catalog.available) return null; // the catalog verdict says why
  const objective = span(i.rpoMs);
  const ok = i.catalog.lastBackupSuccess;
  const running = i.catalog.backupRunning ?? (i.agent.runningJob?.job === 'backup' ? { started: i.agent.runningJob.since } : null);
  const note = running ? `; a backup is running since ${when(running.started)}` : '';
  if (ok) {
    // The recovery point is when the backup began reading: changes after that are not in it.
    const age = i.now - ok.started;
    const msg = `recovery point ${span(age)} old (${when(ok.started)}), objective ${objective}`;
    if (age >= i.rpoMs) return { id: 'recovery-point', state: 'CRITICAL', message: `${msg}: missed${note}` };
    if (age >= i.rpoMs * RPO_WARNING_FRACTION) {
      return { id: 'recovery-point', state: 'WARNING', message: `${msg}: ${Math.floor((age / i.rpoMs) * 100)}% of it used${note}` };
    }
    return { id: 'recovery-point', state: 'OK', message: `${msg}${note}` };
  }
  const since = i.catalog.firstRun ?? i.agent.startedAt;
  if (since !== null && i.now - since >= i.rpoMs) {
    return { id: 'recovery-point', state: 'CRITICAL', message: `no backup has completed since ${when(since)} (${span(i.now - since)}), objective ${objective}${note}` };
  }
  const next = i.agent.running ? i.agent.jobs.backup?.nextRun : null;
  const what = running ? note.slice(2) : next ? `the first is due ${when(next)}` : 'start the agent or run "coffre backup"';
  return { id: 'recovery-point', state: 'UNKNOWN', message: `no backup has completed yet: ${what}` };
}

/** A source the last successful backup did not save (added to the config since) has no recovery point at all. */
export function judgeSources({ i }: Judge): Verdict | null {
  if (!i.catalog.available || !i.catalog.lastBackupSuccess) return null;
  const missing = i.sources.filter((s) => s.inLastBackup === false).map((s) => s.path);
  if (missing.length === 0) return null;
  return { id: 'sources', state: 'WARNING', message: `not in the last backup yet (added to the config since?): ${missing.join(', ')}` };
}
