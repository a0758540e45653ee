import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retentionFloorDays } from '../../src/retention/floor.js';
import { isoWeek, parseDuration, planRetention, subtractDuration, type RetentionPolicy, type SnapshotRef } from '../../src/retention/policy.js';

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

/** Every hour from 2026-01-01T00:30Z for `hours` hours; the clock (`now`) is injected. */
function hourly(hours: number, tags: (i: number) => string[] = () => []): SnapshotRef[] {
  return Array.from({ length: hours }, (_, i) => ({ ...snap(`h${String(i).padStart(5, '0')}`, new Date(Date.UTC(2026, 0, 1, i, 30)).toISOString()), tags: tags(i) }));
}
const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1, 0, 30);

describe('planRetention with keepWithin, keepTags and the floor (time injected)', () => {
  // 400 days of hourly snapshots; "now" is one hour after the last one.
  const year = hourly(400 * 24, (i) => (i === 1000 ? ['before-upgrade'] : []));
  const now = START + 400 * 24 * HOUR;
  const cases: { name: string; policy: RetentionPolicy; floorDays?: number; kept: number; reasonOf?: [string, string[]] }[] = [
    // The hospital policy of the README: hourly for 2 days, daily for a month, monthly for a year.
    // The last 2 days' newest are hourly ones already; so are the newest of Feb 2027 and Jan 2027 (daily).
    { name: 'hospital: 48 hourly + 31 daily + 12 monthly', policy: { keepHourly: 48, keepDaily: 31, keepMonthly: 12 }, kept: 48 + (31 - 2) + (12 - 2) },
    { name: 'keepWithin 2d keeps the last 48 hours', policy: { keepWithin: '2d' }, kept: 48 },
    { name: 'keepWithin 36h', policy: { keepWithin: '36h' }, kept: 36 },
    { name: 'keepWithin 1w', policy: { keepWithin: '1w' }, kept: 7 * 24 },
    { name: 'keepTags keeps the tagged one besides the rules', policy: { keepLast: 1, keepTags: ['before-upgrade'] }, kept: 2, reasonOf: ['h01000', ['tag before-upgrade']] },
    { name: 'floor 3 days overrules keepLast 1', policy: { keepLast: 1 }, floorDays: 3, kept: 71, reasonOf: ['h09580', ['floor: younger than 3 days']] },
    { name: 'floor 0 lets keepLast 1 act', policy: { keepLast: 1 }, floorDays: 0, kept: 1 },
    { name: 'floor below what rules keep changes nothing', policy: { keepWithin: '5d' }, floorDays: 2, kept: 120 },
  ];
  it.each(cases)('$name', ({ policy, floorDays, kept, reasonOf }) => {
    const p = planRetention(year, policy, { utc: true, now, floorDays });
    expect(p.keep.length).toBe(kept);
    expect(p.keep.length + p.forget.length).toBe(year.length);
    if (reasonOf) expect(p.keep.find((d) => d.snapshot.id === reasonOf[0])?.reasons).toEqual(reasonOf[1]);
    const protectedByFloor = p.keep.filter((d) => d.reasons[0]?.startsWith('floor')).length;
    expect(p.floor.protected.length).toBe(protectedByFloor);
    // The floor is absolute: nothing younger than it is ever in the forget list.
    for (const d of p.forget) expect(now - Date.parse(d.snapshot.time)).toBeGreaterThanOrEqual((floorDays ?? 0) * 24 * HOUR);
  });

  it('keepWithin counts from the newest snapshot of the group, not from now', () => {
    const later = START + 4000 * 24 * HOUR; // backups stopped ten years ago
    expect(planRetention(year, { keepWithin: '2d' }, { now: later }).keep.length).toBe(48);
  });

  it('a floor applies however far the clock has moved', () => {
    const p = planRetention(year, { keepLast: 1 }, { now: START + 24 * HOUR, floorDays: 30 });
    expect(p.forget).toHaveLength(0);
    expect(p.floor.protected).toHaveLength(year.length - 1);
  });

  it('parses durations and refuses bad ones', () => {
    expect(parseDuration('1y6m')).toEqual({ years: 1, months: 6 });
    expect(parseDuration('2d12h')).toEqual({ days: 2, hours: 12 });
    for (const bad of ['', '2', 'd', '2x', '1d1d', '-1d', '1.5d']) expect(() => parseDuration(bad)).toThrow(RangeError);
    expect(subtractDuration(new Date('2026-03-31T10:00:00Z'), { months: 1 }).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(subtractDuration(new Date('2026-03-02T10:00:00Z'), { days: 2, hours: 12 }).toISOString()).toBe('2026-02-27T22:00:00.000Z');
  });

  it('takes the larger of the environment floor and the configured one, and refuses garbage', () => {
    expect(retentionFloorDays(undefined, {})).toBe(0);
    expect(retentionFloorDays(3, { COFFRE_RETENTION_FLOOR_DAYS: '7' })).toBe(7);
    expect(retentionFloorDays(10, { COFFRE_RETENTION_FLOOR_DAYS: '7' })).toBe(10);
    expect(() => retentionFloorDays(undefined, { COFFRE_RETENTION_FLOOR_DAYS: 'seven' })).toThrow(/expected a number of days/);
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
