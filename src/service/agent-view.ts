/**
 * The agent as the health model sees it: from its live state (inside the agent, for the
 * metrics and alerts), or from outside (`coffre status`) from its status file plus a knock
 * on its lock socket — the file says what it last knew, only the socket says whether it is
 * alive (a killed agent leaves a file that still reads "running").
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentJob, AgentView, JobLive } from '../status/inputs.js';
import { agentRunning } from './agent-lock.js';
import { JOB_KINDS, type AgentStatusView, type JobStatus } from './state.js';
import { STATUS_FILE } from './status-file.js';

const time = (iso: string | null | undefined) => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : null;
};

function job(j: JobStatus | undefined): JobLive | undefined {
  if (!j) return undefined;
  const finished = time(j.lastRun?.finished);
  return {
    lastRun: j.lastRun && finished !== null ? { finished, outcome: j.lastRun.outcome, ...(j.lastRun.error ? { error: j.lastRun.error } : {}) } : null,
    nextRun: time(j.nextRun),
    retryAt: time(j.retryAt),
    consecutiveFailures: j.consecutiveFailures ?? 0,
  };
}

/** The agent's own view, as the model reads it; `updatedAt` is when it was taken. */
export function agentViewOf(v: AgentStatusView, running: boolean, updatedAt: number): AgentView {
  const jobs: Partial<Record<AgentJob, JobLive>> = {};
  for (const k of JOB_KINDS) {
    const j = job(v.jobs?.[k]);
    if (j) jobs[k] = j;
  }
  // Reserved for the mass-change detector (DESIGN, "Ransomware and theft model"): read if present.
  const an = (v as { anomaly?: { at?: string; message?: string } | null }).anomaly;
  const anAt = time(an?.at);
  const since = time(v.running?.since);
  return {
    running,
    pid: v.pid ?? null,
    startedAt: time(v.startedAt),
    phase: v.phase ?? null,
    updatedAt,
    runningJob: v.running && since !== null ? { job: v.running.job, since } : null,
    jobs,
    watcher: v.watcher ? { health: v.watcher.health, message: v.watcher.message } : null,
    pending: v.dirty?.count ?? null,
    anomaly: an && anAt !== null && typeof an.message === 'string' ? { at: anAt, message: an.message } : null,
  };
}

export const NO_AGENT: AgentView = {
  running: false,
  pid: null,
  startedAt: null,
  phase: null,
  updatedAt: null,
  runningJob: null,
  jobs: {},
  watcher: null,
  pending: null,
  anomaly: null,
};

/**
 * The agent of a state directory, from outside. `location` (describeLocation form) keeps an
 * agent working for another repository from answering for this one.
 */
export async function readAgentView(stateDir: string, location: string | null): Promise<AgentView> {
  const file = path.join(stateDir, STATUS_FILE);
  let view: AgentStatusView | undefined;
  let mtime: number | null = null;
  try {
    mtime = fs.statSync(file).mtimeMs;
    view = JSON.parse(fs.readFileSync(file, 'utf8')) as AgentStatusView;
  } catch {
    view = undefined; // none yet, or caught mid-rename: the socket still tells whether it runs
  }
  const otherRepository = view !== undefined && location !== null && view.repository !== location;
  if (otherRepository) view = undefined;
  const running = await agentRunning(stateDir);
  if (!view) return running && !otherRepository ? { ...NO_AGENT, running: true, phase: 'starting' } : NO_AGENT;
  // A new agent that has not written its file yet: the file is its predecessor's, whose pid is gone.
  if (running && !pidAlive(view.pid)) return { ...NO_AGENT, running: true, phase: 'starting', updatedAt: mtime };
  return agentViewOf(view, running, mtime ?? Date.now());
}

function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
