/**
 * The pure parts of mass-change detection: the measures (renames, new extensions,
 * incompressible content), the thresholds, the clean-snapshot guard on retention, and the
 * status verdict and alert that a recorded anomaly produces.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, judgeChanges } from '../../src/anomaly/judge.js';
import { measureChanges, type FileChange, type FileSide } from '../../src/anomaly/measure.js';
import { guardCleanSnapshots, cleanStates } from '../../src/retention/clean-guard.js';
import { planRetention } from '../../src/retention/policy.js';
import { alertPayload, transition } from '../../src/status/alert.js';
import { evaluateHealth } from '../../src/status/evaluate.js';
import { catalog, inputs, MIN, NOW } from '../helpers/status-fixtures.js';

const side = (p: string, ratio?: number, contentKey = `c:${p}`): FileSide => ({ path: p, contentKey, ratio });
const noExt = () => new Set<string>(['.doc']);

describe('change measures', () => {
  it('tells renames (moved, extension added or replaced) from deletions and additions', () => {
    const changes: FileChange[] = [
      { kind: 'removed', before: side('/d/a.doc', 0.3) },
      { kind: 'added', after: side('/d/a.doc.locked', 1) },
      { kind: 'removed', before: side('/d/b.doc', 0.3) },
      { kind: 'added', after: side('/d/b.crypt', 0.99) },
      { kind: 'removed', before: side('/d/c.doc', 0.3, 'same') },
      { kind: 'added', after: side('/e/moved.doc', 0.3, 'same') },
      { kind: 'removed', before: side('/d/gone.doc') },
      { kind: 'added', after: side('/d/new.txt') },
      { kind: 'modified', before: side('/d/m.doc', 0.4), after: side('/d/m.doc', 0.98) },
      { kind: 'modified', before: side('/d/n.doc', 0.4), after: side('/d/n.doc', 0.5) },
    ];
    expect(measureChanges(100, changes, noExt)).toEqual({
      filesBefore: 100,
      modified: 2,
      renamed: 3,
      deleted: 1,
      added: 1,
      newExtensions: 2,
      commonNewExtension: '.locked',
      becameIncompressible: 3,
    });
  });

  it('judges against the thresholds, and not below minFiles', () => {
    const base = { filesBefore: 100, modified: 0, renamed: 0, deleted: 0, added: 0, newExtensions: 0, commonNewExtension: null, becameIncompressible: 0 };
    expect(judgeChanges({ ...base, modified: 29 }).suspect).toBe(false);
    expect(judgeChanges({ ...base, modified: 20, deleted: 10 }).reasons).toEqual([
      'mass change: 30% of 100 files changed since the previous snapshot (20 modified, 0 renamed, 10 deleted; threshold 30%)',
    ]);
    expect(judgeChanges({ ...base, becameIncompressible: 9 }).suspect).toBe(false);
    expect(judgeChanges({ ...base, becameIncompressible: 10 }).reasons[0]).toMatch(/^content turned incompressible \(encrypted\?\) in 10 files/);
    expect(judgeChanges({ ...base, newExtensions: 10, commonNewExtension: '.locked' }).reasons[0]).toMatch(/10 files renamed to a new extension, mostly "\.locked"/);
    expect(judgeChanges({ ...base, filesBefore: 19, modified: 19 }).suspect).toBe(false);
    expect(judgeChanges({ ...base, modified: 100 }, { ...DEFAULT_THRESHOLDS, enabled: false }).suspect).toBe(false);
  });
});

describe('clean-snapshot guard', () => {
  const snap = (id: string, hour: number, suspect = false, host = 'h') => ({ id, time: `2026-01-01T${String(hour).padStart(2, '0')}:00:00Z`, host, paths: ['/srv'], suspect });
  const all = [snap('a', 1), snap('b', 2), snap('c', 3), snap('d', 4), snap('x', 5, true), snap('e', 6), snap('o', 1, false, 'other')];

  it('keeps the newest clean snapshots before an unacknowledged suspect one, and the suspect one', () => {
    const plan = guardCleanSnapshots(planRetention(all, { keepLast: 1 }, { utc: true }), new Set(), 2);
    expect(plan.keep.map((d) => d.snapshot.id).sort()).toEqual(['c', 'd', 'e', 'o', 'x']);
    expect(plan.keep.find((d) => d.snapshot.id === 'c')!.reasons).toEqual(['clean before an unacknowledged anomaly']);
    expect(plan.keep.find((d) => d.snapshot.id === 'x')!.reasons).toEqual(['suspect, not acknowledged']);
    expect(plan.forget.map((d) => d.snapshot.id).sort()).toEqual(['a', 'b']);
  });

  it('guards nothing once acknowledged, and names the newest clean snapshot per group', () => {
    const plan = guardCleanSnapshots(planRetention(all, { keepLast: 1 }, { utc: true }), new Set(['x']), 2);
    expect(plan.keep.map((d) => d.snapshot.id).sort()).toEqual(['e', 'o']);
    const states = cleanStates(all, new Set());
    expect(states.map((g) => [g.host, g.clean.at(-1)?.id, g.firstUnacknowledged?.id])).toEqual([
      ['h', 'd', 'x'],
      ['other', 'o', undefined],
    ]);
    // Acknowledged: the suspect snapshot counts as clean again, and so does what follows.
    expect(cleanStates(all, new Set(['x']))[0]!.clean.at(-1)?.id).toBe('e');
  });
});

describe('status and alert', () => {
  it('a recorded anomaly makes status CRITICAL with the reason, and the alert carries it', () => {
    const message = 'snapshot 1234abcd is suspect: mass change: 50% of 40 files changed';
    const i = inputs({ catalog: catalog({ anomaly: { at: NOW - 5 * MIN, message } }) });
    const r = evaluateHealth(i);
    expect(r.state).toBe('CRITICAL');
    expect(r.exitCode).toBe(2);
    expect(r.verdicts.find((v) => v.id === 'anomaly')).toEqual({ id: 'anomaly', state: 'CRITICAL', message: `anomaly flagged 5 min ago: ${message}` });
    const t = transition('OK', r.state)!;
    expect(alertPayload(t, r, i).reasons).toContainEqual({ check: 'anomaly', state: 'CRITICAL', message: `anomaly flagged 5 min ago: ${message}` });
    expect(evaluateHealth(inputs()).verdicts.find((v) => v.id === 'anomaly')).toBeUndefined();
  });
});
