/**
 * Checks and drills: proof that what is stored is intact and restores. Damage found is
 * CRITICAL; a run that could not happen, or a last success older than its schedule allows,
 * is a WARNING; no schedule at all (with a config) is a WARNING too, because damage would
 * then go unnoticed until the day of the restore.
 * @module
 */
import type { Judge } from './backup-health.js';
import type { HealthInputs, JobOutcome, Schedule } from './inputs.js';
import type { Verdict } from './report.js';
import { lateAfterMs } from './thresholds.js';
import { plural, span, when } from './words.js';

export interface Outcome {
  readonly at: number;
  /** ran and found damage / could not run / passed */
  readonly kind: 'damage' | 'not-run' | 'ok';
  readonly message: string | null;
}

function fromAgent(run: { finished: number; outcome: JobOutcome; error?: { message: string } } | null | undefined): Outcome | null {
  if (!run) return null;
  if (run.outcome === 'ok') return { at: run.finished, kind: 'ok', message: null };
  if (run.outcome === 'problem') return { at: run.finished, kind: 'damage', message: null };
  if (run.outcome === 'failed') return { at: run.finished, kind: 'not-run', message: run.error?.message ?? null };
  return null;
}

/** The newer of two views of the same history; the agent's is exact about "could not run". */
function newest(a: Outcome | null, b: Outcome | null): Outcome | null {
  if (!a) return b;
  if (!b) return a;
  return b.at >= a.at ? b : a;
}

/** How a job's schedule and last success compare; null when in time. */
function lateness(j: Judge, what: 'check' | 'drill', schedule: Schedule | null | undefined, lastOk: number | null): Verdict | null {
  const { i } = j;
  const key = `schedule.${what}`;
  if (schedule === null) {
    const why = what === 'check' ? 'damage in the repository would go unnoticed' : 'nobody knows whether a restore works, nor how long it takes';
    return { id: what, state: 'WARNING', message: `no ${what} is scheduled (${key}): ${why}` };
  }
  if (schedule === undefined) return null;
  const c = i.catalog.available ? i.catalog : null;
  const since = lastOk ?? c?.firstRun ?? i.agent.startedAt;
  if (since === null || i.now - since <= lateAfterMs(schedule.intervalMs)) return null;
  const late = lastOk === null ? `no ${what} has passed since ${when(since)}` : `last successful ${what} ${span(i.now - lastOk)} ago`;
  return { id: what, state: 'WARNING', message: `${late}, but ${key} is "${schedule.expression}" (every ${span(schedule.intervalMs)} at most)` };
}

/** The newest check that passed, found damage or could not run: from the run history or the agent. */
export function lastCheck(i: HealthInputs): Outcome | null {
  const recorded = i.catalog.available ? i.catalog.lastCheck : null;
  const fromCatalog: Outcome | null =
    recorded && recorded.finished !== null && recorded.result !== 'running' && recorded.result !== 'interrupted'
      ? { at: recorded.finished, kind: recorded.result === 'failed' ? (recorded.damage ? 'damage' : 'not-run') : 'ok', message: recorded.error }
      : null;
  return newest(fromCatalog, fromAgent(i.agent.jobs.check?.lastRun));
}

/** The newest drill, as lastCheck. */
export function lastDrill(i: HealthInputs): Outcome | null {
  const d = i.catalog.available ? i.catalog.lastDrill : null;
  const fromCatalog: Outcome | null = d ? { at: d.finished, kind: d.result === 'ok' ? 'ok' : d.damage ? 'damage' : 'not-run', message: d.error } : null;
  return newest(fromCatalog, fromAgent(i.agent.jobs.drill?.lastRun));
}

export function judgeCheck(j: Judge): Verdict {
  const { i } = j;
  const c = i.catalog.available ? i.catalog : null;
  const last = lastCheck(i);
  if (last?.kind === 'damage') {
    return { id: 'check', state: 'CRITICAL', message: `the check ${span(i.now - last.at)} ago found damage in the repository (the agent log names the damaged objects; "coffre check" repeats it)` };
  }
  if (last?.kind === 'not-run') {
    return { id: 'check', state: 'WARNING', message: `the check ${span(i.now - last.at)} ago could not run: ${j.safe(last.message ?? 'no reason recorded')}` };
  }
  const lastOk = Math.max(c?.lastCheckSuccess?.finished ?? -1, last?.kind === 'ok' ? last.at : -1);
  const late = lateness(j, 'check', i.schedules.check, lastOk >= 0 ? lastOk : null);
  if (late) return late;
  if (lastOk >= 0) return { id: 'check', state: 'OK', message: `last check ${span(i.now - lastOk)} ago: no damage found` };
  const next = i.agent.running ? i.agent.jobs.check?.nextRun : i.schedules.check?.nextRun;
  return { id: 'check', state: 'OK', message: next ? `no check yet; the first is due ${when(next)}` : 'no check recorded' };
}

export function judgeDrill(j: Judge): Verdict {
  const { i } = j;
  const c = i.catalog.available ? i.catalog : null;
  const d = c?.lastDrill;
  const last = lastDrill(i);
  if (last?.kind === 'damage') {
    const what = d && d.finished === last.at && d.mismatches > 0 ? `${plural(d.mismatches, 'file')} did not restore identically` : 'the restore did not verify';
    return { id: 'drill', state: 'CRITICAL', message: `the restore drill ${span(i.now - last.at)} ago failed: ${what}${d?.error ? ` (${j.safe(d.error)})` : ''}` };
  }
  if (last?.kind === 'not-run') {
    return { id: 'drill', state: 'WARNING', message: `the restore drill ${span(i.now - last.at)} ago could not run: ${j.safe(last.message ?? 'no reason recorded')}` };
  }
  const ok = c?.lastDrillSuccess ?? null;
  const lastOk = Math.max(ok?.finished ?? -1, last?.kind === 'ok' ? last.at : -1);
  const late = lateness(j, 'drill', i.schedules.drill, lastOk >= 0 ? lastOk : null);
  if (late) return late;
  if (lastOk >= 0) {
    const rto = ok?.rtoEstimateMs ? `; a full restore would take about ${span(ok.rtoEstimateMs)}` : '';
    return { id: 'drill', state: 'OK', message: `last restore drill ${span(i.now - lastOk)} ago: ${plural(ok?.files ?? 0, 'file')} restored intact${rto}` };
  }
  const next = i.agent.running ? i.agent.jobs.drill?.nextRun : i.schedules.drill?.nextRun;
  return { id: 'drill', state: 'OK', message: next ? `no restore drill yet; the first is due ${when(next)}` : 'no restore drill recorded' };
}
