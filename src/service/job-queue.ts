/**
 * The agent's repository jobs, one at a time. Never two at once (two backups would race for
 * the writer lock; a check during a backup reads a repository being written), and never a
 * pile: a job that is already waiting is not queued again, so a backup that overruns its
 * schedule makes the next tick wait for it, and the ticks that fall meanwhile collapse into
 * that one waiting run.
 * @module
 */
import type { JobKind } from './state.js';

export type JobRunner = (kind: JobKind, trigger: string) => Promise<void>;

export interface QueueView {
  readonly running: { readonly job: JobKind; readonly trigger: string; readonly since: string } | null;
  readonly queued: readonly JobKind[];
}

export class JobQueue {
  private readonly waiting: { kind: JobKind; trigger: string }[] = [];
  private current: QueueView['running'] = null;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly run: JobRunner,
    private readonly onChange: (v: QueueView) => void = () => undefined,
  ) {}

  /** Queues a job unless one of the same kind is already waiting; false if not queued. */
  enqueue(kind: JobKind, trigger: string): boolean {
    if (this.stopped || this.waiting.some((j) => j.kind === kind)) return false;
    this.waiting.push({ kind, trigger });
    this.changed();
    this.loop ??= this.drain().finally(() => {
      this.loop = undefined;
    });
    return true;
  }

  view(): QueueView {
    return { running: this.current, queued: this.waiting.map((j) => j.kind) };
  }

  /** Takes no more jobs and drops the waiting ones; resolves once the running one has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    this.changed();
    await this.loop;
  }

  private async drain(): Promise<void> {
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      this.current = { job: next.kind, trigger: next.trigger, since: new Date().toISOString() };
      this.changed();
      try {
        await this.run(next.kind, next.trigger);
      } catch {
        // the runner reports its own failures; the queue only keeps going
      }
      this.current = null;
      this.changed();
    }
  }

  private changed(): void {
    this.onChange(this.view());
  }
}
