/**
 * The clean-snapshot guard: while a group of snapshots (same host and paths) holds a
 * suspect snapshot nobody acknowledged (`coffre anomaly ack`), the newest snapshots taken
 * before the first such one are the ones a restore after ransomware needs — they are kept
 * whatever the retention policy says. Snapshots after the first unacknowledged suspect are
 * not "clean" even when their own verdict is: they were compared with encrypted data.
 * Unacknowledged suspect snapshots are kept too: they are the evidence, and forgetting them
 * would silently end the protection.
 *
 * Kept separate from the policy (policy.ts) so that any policy can be guarded: it only
 * moves decisions from `forget` to `keep`.
 * @module
 */
import type { RetentionDecision, RetentionPlan, SnapshotRef } from './policy.js';
import { byCodeUnits } from '../util/order.js';

export interface GuardedRef extends SnapshotRef {
  readonly suspect: boolean;
}

/** How many clean snapshots before an unacknowledged anomaly are kept, per group, by default. */
export const CLEAN_KEPT = 3;

export const CLEAN_REASON = 'clean before an unacknowledged anomaly';
export const SUSPECT_REASON = 'suspect, not acknowledged';

const groupKey = (s: SnapshotRef) => JSON.stringify([s.host, [...s.paths].sort()]);
const byTime = (a: SnapshotRef, b: SnapshotRef) => byCodeUnits(a.time, b.time) || byCodeUnits(a.id, b.id);

export interface GroupState<S extends GuardedRef> {
  readonly host: string;
  readonly paths: readonly string[];
  /** the oldest suspect snapshot not acknowledged, if any */
  readonly firstUnacknowledged: S | undefined;
  /** clean snapshots (not suspect, or acknowledged) older than it, oldest first */
  readonly clean: readonly S[];
}

/** Per group of host and paths: where the unacknowledged trouble starts, and what was clean before. */
export function cleanStates<S extends GuardedRef>(snapshots: readonly S[], acknowledged: ReadonlySet<string>): GroupState<S>[] {
  const groups = new Map<string, S[]>();
  for (const s of snapshots) groups.set(groupKey(s), [...(groups.get(groupKey(s)) ?? []), s]);
  return [...groups.values()].map((g) => {
    g.sort(byTime);
    const k = g.findIndex((s) => s.suspect && !acknowledged.has(s.id));
    const before = k < 0 ? g : g.slice(0, k);
    return {
      host: g[0]!.host,
      paths: g[0]!.paths,
      firstUnacknowledged: k < 0 ? undefined : g[k],
      clean: before.filter((s) => !s.suspect || acknowledged.has(s.id)),
    };
  });
}

/** The plan with the newest `count` clean snapshots before each unacknowledged anomaly kept. */
export function guardCleanSnapshots<S extends GuardedRef>(plan: RetentionPlan<S>, acknowledged: ReadonlySet<string>, count = CLEAN_KEPT): RetentionPlan<S> {
  const all = [...plan.keep, ...plan.forget].map((d) => d.snapshot);
  const protect = new Map<string, string>();
  for (const s of all) if (s.suspect && !acknowledged.has(s.id)) protect.set(s.id, SUSPECT_REASON);
  for (const g of cleanStates(all, acknowledged)) if (g.firstUnacknowledged) for (const s of g.clean.slice(-count)) protect.set(s.id, CLEAN_REASON);
  if (protect.size === 0) return plan;
  const keep: RetentionDecision<S>[] = plan.keep.map((d) => {
    const why = protect.get(d.snapshot.id);
    return why ? { ...d, reasons: [...d.reasons, why] } : d;
  });
  const forget: RetentionDecision<S>[] = [];
  for (const d of plan.forget) {
    const why = protect.get(d.snapshot.id);
    if (why) keep.push({ ...d, reasons: [why] });
    else forget.push(d);
  }
  return { ...plan, keep, forget };
}
