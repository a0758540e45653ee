/**
 * The agent: whether it runs (when a config says it should), whether it still sees changes
 * (the watcher), whether its other jobs keep failing, and whether it flagged an anomaly.
 * @module
 */
import type { Judge } from './backup-health.js';
import type { AgentJob } from './inputs.js';
import type { Verdict } from './report.js';
import { span, when } from './words.js';

export function judgeAgent({ i }: Judge): Verdict {
  const a = i.agent;
  if (a.running) {
    const since = a.startedAt !== null ? `, started ${when(a.startedAt)}` : '';
    return { id: 'agent', state: 'OK', message: `the agent is running (pid ${a.pid ?? '?'}${since})` };
  }
  const last =
    a.updatedAt === null
      ? 'it has not run with this state directory'
      : a.phase === 'stopped'
        ? `it stopped at ${when(a.updatedAt)}`
        : `it ended without stopping (killed, or crashed?) after ${when(a.updatedAt)}`;
  if (!i.agentExpected) return { id: 'agent', state: 'OK', message: `the agent is not running (${last}); without --config it is not expected to` };
  return { id: 'agent', state: 'WARNING', message: `the agent is not running: ${last}; no backup happens until it is started` };
}

export function judgeWatcher({ i }: Judge): Verdict | null {
  const w = i.agent.running ? i.agent.watcher : null;
  if (!w || w.health === 'off') return null;
  if (w.health === 'degraded' || w.health === 'failed') {
    const why = w.message ? `: ${w.message}` : '';
    return { id: 'watcher', state: 'WARNING', message: `watching the sources ${w.health}${why}; changes are found by rescans only, later` };
  }
  return { id: 'watcher', state: 'OK', message: w.health === 'watching' ? 'watching the sources for changes' : `watching the sources: ${w.health}` };
}

/** Jobs other than backup, check and drill (judged elsewhere) that keep failing. */
export function judgeOtherJobs(j: Judge): Verdict | null {
  const failing = (['rescan', 'retention'] as const satisfies readonly AgentJob[]).flatMap((k) => {
    const job = j.i.agent.running ? j.i.agent.jobs[k] : undefined;
    return job && job.consecutiveFailures > 0 ? [{ k, job }] : [];
  });
  if (failing.length === 0) return null;
  const parts = failing.map(({ k, job }) => `${k} failed ${job.consecutiveFailures} time(s) in a row: ${j.safe(job.lastRun?.error?.message ?? 'no reason recorded')}`);
  return { id: 'jobs', state: 'WARNING', message: parts.join('; ') };
}

export function judgeAnomaly({ i, safe }: Judge): Verdict | null {
  // The agent's live flag, or a suspect snapshot the catalog remembers until `coffre anomaly ack`.
  const an = i.agent.anomaly ?? (i.catalog.available ? i.catalog.anomaly : null);
  if (!an) return null;
  return { id: 'anomaly', state: 'CRITICAL', message: `anomaly flagged ${span(i.now - an.at)} ago: ${safe(an.message)}` };
}
