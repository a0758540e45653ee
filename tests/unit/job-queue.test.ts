import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/service/job-queue.js';
import type { JobKind } from '../../src/service/state.js';

function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('JobQueue', () => {
  it('runs one job at a time, in order', async () => {
    const log: string[] = [];
    let active = 0;
    const q = new JobQueue(async (kind) => {
      active++;
      expect(active).toBe(1);
      log.push(`start ${kind}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${kind}`);
      active--;
    });
    q.enqueue('backup', 't');
    q.enqueue('check', 't');
    await new Promise((r) => setTimeout(r, 50));
    expect(log).toEqual(['start backup', 'end backup', 'start check', 'end check']);
  });

  it('stop drops the waiting jobs and waits for the running one', async () => {
    const log: JobKind[] = [];
    const q = new JobQueue(async (kind) => {
      await new Promise((r) => setTimeout(r, 5));
      log.push(kind);
    });
    q.enqueue('backup', 't');
    q.enqueue('check', 't');
    await q.stop();
    expect(log).toEqual(['backup']);
  });

  it('collapses ticks that fall while a job of the same kind waits, and lets one wait behind a running one', async () => {
    const g = gate();
    const runs: string[] = [];
    const q = new JobQueue(async (kind, trigger) => {
      runs.push(`${kind}:${trigger}`);
      if (runs.length === 1) await g.p;
    });
    expect(q.enqueue('backup', 'first')).toBe(true);
    await new Promise((r) => setTimeout(r, 1));
    expect(q.view().running?.job).toBe('backup');
    expect(q.enqueue('backup', 'tick1')).toBe(true); // one may wait behind the running one
    expect(q.enqueue('backup', 'tick2')).toBe(false); // the rest collapse into it
    expect(q.enqueue('backup', 'tick3')).toBe(false);
    expect(q.view().queued).toEqual(['backup']);
    g.open();
    await new Promise((r) => setTimeout(r, 10));
    expect(runs).toEqual(['backup:first', 'backup:tick1']);
  });

  it('keeps going after a job throws, and refuses work once stopped', async () => {
    const runs: JobKind[] = [];
    const q = new JobQueue(async (kind) => {
      runs.push(kind);
      if (kind === 'check') throw new Error('boom');
    });
    q.enqueue('check', 't');
    q.enqueue('backup', 't');
    await new Promise((r) => setTimeout(r, 10));
    expect(runs).toEqual(['check', 'backup']);
    await q.stop();
    expect(q.enqueue('backup', 't')).toBe(false);
  });
});
