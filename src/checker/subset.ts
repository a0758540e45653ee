/**
 * Which packs a partial data check reads. "n/m" takes the n-th of m groups, by the first
 * byte of the pack id: running 1/m … m/m on a schedule reads every pack once per cycle.
 * "N%" takes a window of N % of the packs that moves each day, so a daily N % check
 * covers the whole repository in ceil(100/N) days without keeping any state.
 * @module
 */
import { UsageError } from '../domain/errors.js';
import type { PackId } from '../domain/ids.js';

export type Subset = { readonly kind: 'group'; readonly n: number; readonly m: number } | { readonly kind: 'percent'; readonly percent: number; readonly day?: number };

export function parseSubset(s: string): Subset {
  const g = /^(\d+)\/(\d+)$/.exec(s);
  if (g) {
    const n = Number(g[1]);
    const m = Number(g[2]);
    // Groups are drawn from the first byte of pack ids: more than 256 would leave some empty.
    if (m < 1 || m > 256 || n < 1 || n > m) throw new UsageError(`--read-data-subset ${s}: expected n/m with 1 <= n <= m <= 256`);
    return { kind: 'group', n, m };
  }
  const p = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (p) {
    const percent = Number(p[1]);
    if (percent <= 0 || percent > 100) throw new UsageError(`--read-data-subset ${s}: percentage must be in (0, 100]`);
    return { kind: 'percent', percent };
  }
  throw new UsageError(`--read-data-subset ${s}: expected N% or n/m`);
}

export function selectSubset(ids: readonly PackId[], subset: Subset | undefined): PackId[] {
  const sorted = [...ids].sort();
  if (!subset) return sorted;
  if (subset.kind === 'group') return sorted.filter((id) => parseInt(id.slice(0, 2), 16) % subset.m === subset.n - 1);
  const windows = Math.ceil(100 / subset.percent);
  const day = subset.day ?? Math.floor(Date.now() / 86_400_000);
  const w = day % windows;
  const per = Math.ceil(sorted.length / windows);
  return sorted.slice(w * per, (w + 1) * per);
}
