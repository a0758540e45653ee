/**
 * The verdict on a backup's change measures: suspect or not, and why, in one line each.
 * Thresholds are shares of the files the previous snapshot had; they come from the agent
 * config (`anomaly`, docs/agent-config.md) or these defaults.
 *
 * The defaults are set so that a busy day of work (a few percent of the files edited, a
 * folder added or tidied away) stays well below them, while ransomware that encrypts even a
 * tenth of a tree in place trips the incompressible rule, and one that renames or rewrites a
 * third of it trips the mass-change rule.
 * @module
 */
import type { ChangeMeasures } from './measure.js';

export interface AnomalyThresholds {
  /** false: measure, never flag */
  readonly enabled: boolean;
  /** trees with fewer files than this before are not judged (every change is a large share of a handful) */
  readonly minFiles: number;
  /** (modified + renamed + deleted) / files before */
  readonly changedShare: number;
  /** files whose content turned from compressible to incompressible / files before */
  readonly incompressibleShare: number;
  /** files renamed to an extension their directory did not have / files before */
  readonly newExtensionShare: number;
}

export const DEFAULT_THRESHOLDS: AnomalyThresholds = {
  enabled: true,
  minFiles: 20,
  changedShare: 0.3,
  incompressibleShare: 0.1,
  newExtensionShare: 0.1,
};

export interface AnomalyVerdict {
  readonly suspect: boolean;
  /** one line per rule that tripped; no file names */
  readonly reasons: readonly string[];
  readonly measures: ChangeMeasures;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export function judgeChanges(m: ChangeMeasures, t: AnomalyThresholds = DEFAULT_THRESHOLDS): AnomalyVerdict {
  const reasons: string[] = [];
  if (t.enabled && m.filesBefore >= t.minFiles) {
    const share = (n: number) => n / m.filesBefore;
    const changed = m.modified + m.renamed + m.deleted;
    if (share(changed) >= t.changedShare) {
      reasons.push(
        `mass change: ${pct(share(changed))} of ${m.filesBefore} files changed since the previous snapshot ` +
          `(${m.modified} modified, ${m.renamed} renamed, ${m.deleted} deleted; threshold ${pct(t.changedShare)})`,
      );
    }
    if (share(m.becameIncompressible) >= t.incompressibleShare) {
      reasons.push(
        `content turned incompressible (encrypted?) in ${m.becameIncompressible} files, ${pct(share(m.becameIncompressible))} of ${m.filesBefore} ` +
          `(threshold ${pct(t.incompressibleShare)})`,
      );
    }
    if (share(m.newExtensions) >= t.newExtensionShare) {
      const ext = m.commonNewExtension ? `, mostly "${m.commonNewExtension}"` : '';
      reasons.push(`${m.newExtensions} files renamed to a new extension${ext} (${pct(share(m.newExtensions))}; threshold ${pct(t.newExtensionShare)})`);
    }
  }
  return { suspect: reasons.length > 0, reasons, measures: m };
}
