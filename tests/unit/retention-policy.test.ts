import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoWeek, planRetention, type SnapshotRef } from '../../src/retention/policy.js';

const snap = (id: string, time: string, host = 'h1', paths = ['/srv']): SnapshotRef => ({ id, time, host, paths });
const ids = (ds: readonly { snapshot: SnapshotRef }[]) => ds.map((d) => d.snapshot.id).sort();

/** One snapshot at 01:00 and one at 13:00 UTC each day from 2026-01-01, for `days` days. */
function twiceDaily(days: number): SnapshotRef[] {
  const out: SnapshotRef[] = [];
  for (let d = 0; d < days; d++) {
    const day = new Date(Date.UTC(2026, 0, 1 + d)).toISOString().slice(0, 10);
    out.push(snap(`${day}-a`, `${day}T01:00:00.000Z`), snap(`${day}-b`, `${day}T13:00:00.000Z`));
  }
  return out;
}

describe('planRetention', () => {
  it('keepLast keeps the N newest', () => {
    const p = planRetention(twiceDaily(3), { keepLast: 2 }, { utc: true });
    expect(ids(p.keep)).toEqual(['2026-01-03-a', '2026-01-03-b']);
    expect(p.forget).toHaveLength(4);
  });

  it('keepDaily keeps the newest snapshot of each of the N newest days', () => {
    const p = planRetention(twiceDaily(5), { keepDaily: 3 }, { utc: true });
    expect(ids(p.keep)).toEqual(['2026-01-03-b', '2026-01-04-b', '2026-01-05-b']);
    expect(p.keep.find((d) => d.snapshot.id === '2026-01-05-b')!.reasons).toEqual(['daily 2026-01-05']);
  });

  it('combines rules and records every reason', () => {
    const p = planRetention(twiceDaily(40), { keepLast: 1, keepDaily: 2, keepWeekly: 2, keepMonthly: 2 }, { utc: true });
    const newest = p.keep.find((d) => d.snapshot.id === '2026-02-09-b')!;
    expect(newest.reasons).toEqual(['last', 'daily 2026-02-09', 'weekly 2026-W07', 'monthly 2026-02']);
    // weekly: the newest of 2026-W07 (Feb 9) and of 2026-W06 (Sunday Feb 8); monthly: Feb 9 and Jan 31.
    expect(ids(p.keep)).toEqual(['2026-01-31-b', '2026-02-08-b', '2026-02-09-b']);
    expect(p.keep.length + p.forget.length).toBe(80);
  });

  it('judges each host and path set on its own', () => {
    const list = [snap('a1', '2026-01-01T10:00:00Z', 'a'), snap('a2', '2026-01-02T10:00:00Z', 'a'), snap('b1', '2026-01-01T10:00:00Z', 'b'), snap('c1', '2026-01-01T09:00:00Z', 'a', ['/other'])];
    expect(ids(planRetention(list, { keepLast: 1 }).keep)).toEqual(['a2', 'b1', 'c1']);
  });

  it('keeps a snapshot whose time cannot be read', () => {
    const p = planRetention([snap('x', 'garbage'), snap('y', '2026-01-01T00:00:00Z'), snap('z', '2026-01-02T00:00:00Z')], { keepLast: 1 });
    expect(ids(p.keep)).toEqual(['x', 'z']);
  });

  it('refuses a policy that keeps nothing', () => {
    expect(() => planRetention(twiceDaily(1), {})).toThrow(/keeps nothing/);
    expect(() => planRetention(twiceDaily(1), { keepLast: -1 })).toThrow(/whole number/);
  });

  it('never forgets the newest snapshot of a group, and partitions the input', () => {
    const arb = fc.array(fc.record({ t: fc.integer({ min: 1.6e12, max: 1.9e12 }), host: fc.constantFrom('a', 'b') }), { minLength: 1, maxLength: 60 });
    const rule = fc.record({ keepLast: fc.nat(3), keepDaily: fc.nat(5), keepMonthly: fc.nat(3) }).filter((r) => r.keepLast + r.keepDaily + r.keepMonthly > 0);
    fc.assert(
      fc.property(arb, rule, (items, policy) => {
        const list = items.map((x, i) => snap(`s${i}`, new Date(x.t).toISOString(), x.host));
        const p = planRetention(list, policy, { utc: true });
        expect(p.keep.length + p.forget.length).toBe(list.length);
        for (const host of ['a', 'b']) {
          const mine = list.filter((s) => s.host === host).sort((x, y) => y.time.localeCompare(x.time) || y.id.localeCompare(x.id));
          if (mine.length) expect(p.keep.map((d) => d.snapshot.id)).toContain(mine[0]!.id);
        }
      }),
    );
  });
});

describe('isoWeek', () => {
  it('follows ISO 8601 at year boundaries', () => {
    expect(isoWeek(2026, 1, 1)).toBe('2026-W01'); // a Thursday
    expect(isoWeek(2021, 1, 3)).toBe('2020-W53'); // a Sunday
    expect(isoWeek(2024, 12, 30)).toBe('2025-W01'); // a Monday
    expect(isoWeek(2026, 2, 8)).toBe('2026-W06');
  });
});
