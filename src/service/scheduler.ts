/**
 * When jobs fall due: each job kind on its own cron expression (node-cron; a leading
 * seconds field is allowed), and after a failure, a retry with exponential backoff that
 * does not wait for the next tick. The scheduler only says "due"; the job queue decides
 * when a job actually runs.
 * @module
 */
import { createTask, setLogger, type ScheduledTask } from 'node-cron';
import type { Logger } from './logger.js';
import type { AgentState, JobKind } from './state.js';

export interface RetryPolicy {
  readonly minSeconds: number;
  readonly maxSeconds: number;
}

/** The wait before retry number `failures` (1 = after the first failure): doubling, capped, with jitter. */
export function backoffMs(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxSeconds, policy.minSeconds * 2 ** Math.max(0, failures - 1)) * 1000;
  return Math.round(exp * (0.75 + random() * 0.25));
}

export class Scheduler {
  private readonly tasks = new Map<JobKind, ScheduledTask>();
  private readonly retries = new Map<JobKind, NodeJS.Timeout>();

  constructor(
    private readonly due: (kind: JobKind, trigger: string) => void,
    private readonly state: AgentState,
    log: Logger,
  ) {
    setLogger({
      info: (m) => log.debug({ component: 'cron' }, m),
      warn: (m) => log.warn({ component: 'cron' }, m),
      error: (m) => log.error({ component: 'cron' }, String(m)),
      debug: (m) => log.trace({ component: 'cron' }, String(m)),
    });
  }

  /** Replaces every schedule (start, and each reload). */
  setSchedules(schedules: Partial<Record<JobKind, string>>): void {
    this.stopTasks();
    for (const [kind, expression] of Object.entries(schedules) as [JobKind, string | undefined][]) {
      if (expression === undefined) {
        this.state.setSchedule(kind, null, null);
        continue;
      }
      const task = createTask(expression, () => this.fire(kind, 'schedule'), { name: `coffre-${kind}`, suppressMissedWarning: true });
      this.tasks.set(kind, task);
      void task.start();
      this.state.setSchedule(kind, expression, task.getNextRun());
    }
  }

  nextRun(kind: JobKind): Date | null {
    return this.tasks.get(kind)?.getNextRun() ?? null;
  }

  /** Schedules a retry of `kind` after its `failures`-th failure in a row; returns when. */
  retryLater(kind: JobKind, failures: number, policy: RetryPolicy): Date {
    this.cancelRetry(kind);
    const delay = backoffMs(failures, policy);
    const at = new Date(Date.now() + delay);
    this.retries.set(
      kind,
      setTimeout(() => {
        this.retries.delete(kind);
        this.state.setRetry(kind, null);
        this.due(kind, 'retry');
      }, delay),
    );
    this.state.setRetry(kind, at);
    return at;
  }

  cancelRetry(kind: JobKind): void {
    const t = this.retries.get(kind);
    if (t) clearTimeout(t);
    this.retries.delete(kind);
    this.state.setRetry(kind, null);
  }

  stop(): void {
    for (const [kind, t] of this.tasks) this.state.setSchedule(kind, t.getPattern(), null);
    this.stopTasks();
    for (const kind of [...this.retries.keys()]) this.cancelRetry(kind);
  }

  private fire(kind: JobKind, trigger: string): void {
    const task = this.tasks.get(kind);
    this.state.setSchedule(kind, task?.getPattern() ?? null, task?.getNextRun() ?? null);
    this.due(kind, trigger);
  }

  private stopTasks(): void {
    for (const t of this.tasks.values()) void t.destroy();
    this.tasks.clear();
  }
}
