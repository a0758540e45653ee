/**
 * The health model: inputs in, a HealthReport out. Pure (no clock, no files, no output):
 * `coffre status`, the agent's metrics and its alert webhook all judge through here, so the
 * three never disagree.
 *
 * The overall state is the worst verdict's:
 * - CRITICAL: the recovery-point objective is missed, the last backup failed, a check or a
 *   drill found damage, or an anomaly was flagged;
 * - UNKNOWN: the state cannot be read (no catalog of this repository here, or it cannot be
 *   opened), or no backup has completed yet;
 * - WARNING: the recovery point has used 80% of the objective, the last backup left files
 *   out or did not cover a source, a check or drill is late, unscheduled or could not run, the agent is not running
 *   (with a config), watching is degraded, another job keeps failing;
 * - OK otherwise.
 * @module
 */
import { judgeAgent, judgeAnomaly, judgeOtherJobs, judgeWatcher } from './agent-health.js';
import { judgeLastBackup, judgeRecoveryPoint, judgeSources, type Judge } from './backup-health.js';
import type { HealthInputs } from './inputs.js';
import { redact } from './redact.js';
import { byRank, EXIT_CODE, worst, type HealthReport, type Verdict } from './report.js';
import { judgeCheck, judgeDrill } from './verification-health.js';

/** Makes a recorded message safe to show for these inputs (renderers use it for raw errors too). */
export function redactorFor(i: HealthInputs): (message: string) => string {
  const safe = { roots: i.sources.map((s) => s.path), containers: i.safePaths };
  return (m) => redact(m, safe);
}

export function evaluateHealth(i: HealthInputs): HealthReport {
  const j: Judge = { i, safe: redactorFor(i) };
  const catalog: Verdict = i.catalog.available
    ? { id: 'catalog', state: 'OK', message: `run history read from ${i.catalog.file}` }
    : { id: 'catalog', state: 'UNKNOWN', message: j.safe(i.catalog.reason) };
  const verdicts = [
    catalog,
    judgeRecoveryPoint(j),
    judgeLastBackup(j),
    judgeSources(j),
    judgeCheck(j),
    judgeDrill(j),
    judgeAgent(j),
    judgeWatcher(j),
    judgeOtherJobs(j),
    judgeAnomaly(j),
  ].filter((v): v is Verdict => v !== null);
  const state = worst(verdicts.map((v) => v.state));
  return { state, exitCode: EXIT_CODE[state], summary: summarize(verdicts), verdicts };
}

/** The reasons, worst first; when all is well, what an admin wants confirmed: the recovery point. */
function summarize(verdicts: readonly Verdict[]): string {
  const bad = verdicts.filter((v) => v.state !== 'OK').sort((a, b) => byRank(a.state, b.state));
  if (bad.length) return bad.map((v) => v.message).join('; ');
  return verdicts.find((v) => v.id === 'recovery-point')?.message ?? 'all checks passed';
}
