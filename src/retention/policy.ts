/**
 * Retention: which snapshots a `--keep-*` policy keeps, as a pure function of the list of
 * snapshots (restic's `forget` semantics, which many admins already know).
 *
 * Snapshots are grouped by host and paths; each group is judged on its own, newest first:
 * - keepLast N keeps the N newest;
 * - keepHourly/Daily/Weekly/Monthly/Yearly N keeps the newest snapshot of each of the N
 *   newest hours (days, ISO weeks, months, years) that have one.
 * - keepWithin "2d12h" keeps every snapshot less than that older than the group's newest
 *   (relative to the newest, not to now: a host whose backups stopped does not lose its
 *   history for it);
 * - keepTags keeps every snapshot carrying one of the tags.
 * A snapshot is kept if any rule keeps it, and the reasons are recorded. A policy that keeps
 * nothing is refused, so the newest snapshot of every group always stays. A snapshot whose
 * time cannot be read is kept.
 *
 * The retention floor is not a rule but a limit on all of them: no snapshot younger than
 * `floorDays` (counted from `now`) is forgotten, whatever the policy says. It is configured
 * by the administrator, not passed per command, so that a mistyped or hostile `--keep-last 1`
 * cannot empty recent history; the plan reports what it protected.
 *
 * Periods are calendar periods in UTC or in the machine's local time zone.
 * @module
 */
import { byCodeUnits } from '../util/order.js';

export interface RetentionPolicy {
  readonly keepLast?: number;
  readonly keepHourly?: number;
  readonly keepDaily?: number;
  readonly keepWeekly?: number;
  readonly keepMonthly?: number;
  readonly keepYearly?: number;
  /** a duration: whole numbers with units y, m (months), w, d, h, e.g. "2d", "1y6m" */
  readonly keepWithin?: string;
  readonly keepTags?: readonly string[];
}

export interface RetentionOptions {
  /** calendar periods in UTC (default: the machine's local time zone) */
  readonly utc?: boolean;
  /** snapshots younger than this many days are never forgotten (default 0) */
  readonly floorDays?: number;
  /** ms since the epoch; injected by tests (default Date.now()) */
  readonly now?: number;
}

export interface SnapshotRef {
  readonly id: string;
  /** ISO 8601 */
  readonly time: string;
  readonly host: string;
  readonly paths: readonly string[];
  readonly tags?: readonly string[];
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
  /** the floor applied, and the snapshots kept only because of it */
  readonly floor: { readonly days: number; readonly protected: readonly RetentionDecision<S>[] };
}

const DAY_MS = 86_400_000;
const DURATION_UNITS = { y: 'years', m: 'months', w: 'weeks', d: 'days', h: 'hours', s: 'seconds' } as const;
export type Duration = Partial<Record<(typeof DURATION_UNITS)[keyof typeof DURATION_UNITS], number>>;

/** Parses "1y6m", "2d12h", "36h", "90s"… (each unit at most once); a RangeError names what is wrong. */
export function parseDuration(text: string): Duration {
  const out: Record<string, number> = {};
  const rest = text.trim().replace(/(\d+)([ymwdhs])/g, (_all, n: string, u: keyof typeof DURATION_UNITS) => {
    const unit = DURATION_UNITS[u];
    if (out[unit] !== undefined) throw new RangeError(`duration "${text}": unit ${u} given twice`);
    out[unit] = Number(n);
    return '';
  });
  if (rest !== '' || Object.keys(out).length === 0) {
    throw new RangeError(`duration "${text}": expected whole numbers with units y, m, w, d, h, s (e.g. 2d, 36h, 1y6m)`);
  }
  return out as Duration;
}

/** `from` moved back by `d`, in UTC calendar arithmetic (months and years keep the day of month when they can). */
export function subtractDuration(from: Date, d: Duration): Date {
  const t = new Date(from.getTime());
  if (d.years || d.months) {
    const day = t.getUTCDate();
    t.setUTCDate(1);
    t.setUTCMonth(t.getUTCMonth() - (d.months ?? 0) - 12 * (d.years ?? 0));
    const last = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
    t.setUTCDate(Math.min(day, last));
  }
  return new Date(t.getTime() - ((d.weeks ?? 0) * 7 + (d.days ?? 0)) * DAY_MS - (d.hours ?? 0) * 3_600_000 - (d.seconds ?? 0) * 1000);
}

/** A duration as a fixed number of milliseconds (a month counts 31 days, a year 366: for waiting, longer is safer). */
export function durationMs(d: Duration): number {
  return (((d.years ?? 0) * 366 + (d.months ?? 0) * 31 + (d.weeks ?? 0) * 7 + (d.days ?? 0)) * 24 + (d.hours ?? 0)) * 3_600_000 + (d.seconds ?? 0) * 1000;
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

export function planRetention<S extends SnapshotRef>(snapshots: readonly S[], policy: RetentionPolicy, opts: RetentionOptions = {}): RetentionPlan<S> {
  const active = rules(policy);
  const within = policy.keepWithin !== undefined ? parseDuration(policy.keepWithin) : undefined;
  const keepTags = new Set(policy.keepTags ?? []);
  if (active.length === 0 && !within && keepTags.size === 0) throw new RangeError('a retention policy that keeps nothing is refused');
  const floorDays = opts.floorDays ?? 0;
  if (!(floorDays >= 0)) throw new RangeError(`retention floor: expected a number of days >= 0, got ${floorDays}`);
  const floorTime = (opts.now ?? Date.now()) - floorDays * DAY_MS;
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
  const floorProtected: RetentionDecision<S>[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => byCodeUnits(b.time, a.time) || byCodeUnits(b.id, a.id));
    const newest = group.map((s) => new Date(s.time)).find((d) => !Number.isNaN(d.getTime()));
    const withinFrom = within && newest ? subtractDuration(newest, within).getTime() : undefined;
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
      if (withinFrom !== undefined && when.getTime() > withinFrom) reasons.push(`within ${policy.keepWithin}`);
      const tagged = (s.tags ?? []).filter((t) => keepTags.has(t));
      if (tagged.length) reasons.push(`tag ${tagged.join(',')}`);
      if (reasons.length === 0 && when.getTime() > floorTime) {
        const d = { snapshot: s, reasons: [`floor: younger than ${floorDays} days`] };
        floorProtected.push(d);
        return keep.push(d);
      }
      (reasons.length ? keep : forget).push({ snapshot: s, reasons });
    });
  }
  return { keep, forget, floor: { days: floorDays, protected: floorProtected } };
}
