/**
 * Retention: which snapshots a `--keep-*` policy keeps, as a pure function of the list of
 * snapshots (restic's `forget` semantics, which many admins already know).
 *
 * Snapshots are grouped by host and paths; each group is judged on its own, newest first:
 * - keepLast N keeps the N newest;
 * - keepHourly/Daily/Weekly/Monthly/Yearly N keeps the newest snapshot of each of the N
 *   newest hours (days, ISO weeks, months, years) that have one.
 * A snapshot is kept if any rule keeps it, and the reasons are recorded. A policy that keeps
 * nothing is refused, so the newest snapshot of every group always stays. A snapshot whose
 * time cannot be read is kept.
 *
 * Periods are calendar periods in UTC or in the machine's local time zone.
 * @module
 */

export interface RetentionPolicy {
  readonly keepLast?: number;
  readonly keepHourly?: number;
  readonly keepDaily?: number;
  readonly keepWeekly?: number;
  readonly keepMonthly?: number;
  readonly keepYearly?: number;
}

export interface SnapshotRef {
  readonly id: string;
  /** ISO 8601 */
  readonly time: string;
  readonly host: string;
  readonly paths: readonly string[];
}

export interface RetentionDecision<S extends SnapshotRef = SnapshotRef> {
  readonly snapshot: S;
  /** why it is kept ("last", "daily 2026-03-01"…); empty for a snapshot to forget */
  readonly reasons: readonly string[];
}

export interface RetentionPlan<S extends SnapshotRef = SnapshotRef> {
  /** newest first, within each group */
  readonly keep: readonly RetentionDecision<S>[];
  readonly forget: readonly RetentionDecision<S>[];
}

type Rule = { readonly name: string; readonly count: number; readonly bucket: (d: Date, utc: boolean) => string };

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const parts = (d: Date, utc: boolean) =>
  utc
    ? { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, day: d.getUTCDate(), h: d.getUTCHours() }
    : { y: d.getFullYear(), m: d.getMonth() + 1, day: d.getDate(), h: d.getHours() };

/** ISO 8601 week of a calendar date: the week with the year's first Thursday is week 1. */
export function isoWeek(y: number, m: number, day: number): string {
  const d = new Date(Date.UTC(y, m - 1, day));
  const dow = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${pad(week)}`;
}

function rules(p: RetentionPolicy): Rule[] {
  const all: Rule[] = [
    { name: 'last', count: p.keepLast ?? 0, bucket: () => '' },
    { name: 'hourly', count: p.keepHourly ?? 0, bucket: (d, u) => ((x) => `${x.y}-${pad(x.m)}-${pad(x.day)} ${pad(x.h)}h`)(parts(d, u)) },
    { name: 'daily', count: p.keepDaily ?? 0, bucket: (d, u) => ((x) => `${x.y}-${pad(x.m)}-${pad(x.day)}`)(parts(d, u)) },
    { name: 'weekly', count: p.keepWeekly ?? 0, bucket: (d, u) => ((x) => isoWeek(x.y, x.m, x.day))(parts(d, u)) },
    { name: 'monthly', count: p.keepMonthly ?? 0, bucket: (d, u) => ((x) => `${x.y}-${pad(x.m)}`)(parts(d, u)) },
    { name: 'yearly', count: p.keepYearly ?? 0, bucket: (d, u) => String(parts(d, u).y) },
  ];
  for (const r of all) {
    if (!Number.isInteger(r.count) || r.count < 0) throw new RangeError(`keep ${r.name}: expected a whole number >= 0, got ${r.count}`);
  }
  return all.filter((r) => r.count > 0);
}

export function planRetention<S extends SnapshotRef>(snapshots: readonly S[], policy: RetentionPolicy, opts: { utc?: boolean } = {}): RetentionPlan<S> {
  const active = rules(policy);
  if (active.length === 0) throw new RangeError('a retention policy that keeps nothing is refused');
  const utc = opts.utc ?? false;
  const groups = new Map<string, S[]>();
  for (const s of snapshots) {
    const key = JSON.stringify([s.host, [...s.paths].sort()]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(s);
  }
  const keep: RetentionDecision<S>[] = [];
  const forget: RetentionDecision<S>[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
    const left = active.map((r) => r.count);
    const lastBucket: (string | undefined)[] = active.map(() => undefined);
    group.forEach((s, i) => {
      const when = new Date(s.time);
      if (Number.isNaN(when.getTime())) return keep.push({ snapshot: s, reasons: ['unreadable time'] });
      const reasons: string[] = [];
      active.forEach((r, k) => {
        const b = r.name === 'last' ? String(i) : r.bucket(when, utc);
        if (left[k]! > 0 && b !== lastBucket[k]) {
          lastBucket[k] = b;
          left[k]!--;
          reasons.push(r.name === 'last' ? 'last' : `${r.name} ${b}`);
        }
      });
      (reasons.length ? keep : forget).push({ snapshot: s, reasons });
    });
  }
  return { keep, forget };
}
