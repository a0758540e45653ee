/**
 * Mass-change (ransomware) detection in the library API: each backup's snapshot gets the
 * verdict of src/anomaly against its parent; a suspect one is still written, tagged, and
 * remembered in the catalog (so `coffre status` goes CRITICAL and the agent alerts) until
 * an admin acknowledges it with `coffre anomaly ack`, which writes an acknowledgement into
 * the repository (`acks/`, FORMAT §14) so that every machine — the agent, the admin's
 * `forget` — sees it. Until then `forget` keeps the clean snapshots before it
 * (src/retention/clean-guard.ts).
 * @module
 */
import { hostname, userInfo } from 'node:os';
import { DEFAULT_THRESHOLDS, type AnomalyThresholds } from '../anomaly/judge.js';
import { assessChanges } from '../anomaly/scan.js';
import type { Catalog } from '../catalog/catalog.js';
import { META_ANOMALY, type RecordedAnomaly } from '../catalog/reader.js';
import { describeError, UsageError } from '../domain/errors.js';
import type { Repository, SnapshotEntry } from '../repository/repository.js';
import { getSideObject, listSideObjects, putSideObject } from '../repository/side-objects.js';
import { isSuspect, SUSPECT_TAG, type Snapshot } from '../repository/snapshot.js';
import { cleanStates, type GroupState } from '../retention/clean-guard.js';
import { toListing, type SnapshotListing } from './browse.js';

export const ACKS_PREFIX = 'acks/';
const ACK_PURPOSE = 'anomaly-ack';

export interface AnomalyAck {
  readonly version: 1;
  readonly time: string;
  readonly host: string;
  readonly username: string;
  /** the suspect snapshots acknowledged */
  readonly snapshots: readonly string[];
}

/**
 * The archiver's `annotate` hook: judges the new snapshot against its parent. A failure to
 * judge never costs the backup: the snapshot is written without a verdict, and it is said.
 */
export function anomalyAnnotator(repo: Repository, thresholds: AnomalyThresholds = DEFAULT_THRESHOLDS, notice?: (m: string) => void) {
  return async (draft: Snapshot, parent: SnapshotEntry | undefined): Promise<Snapshot> => {
    if (!parent) return draft;
    try {
      const v = await assessChanges(repo, { parentTree: parent.snapshot.tree, parentSummary: parent.snapshot.summary, tree: draft.tree }, thresholds);
      if (!v) return draft;
      return {
        ...draft,
        tags: v.suspect && !draft.tags.includes(SUSPECT_TAG) ? [...draft.tags, SUSPECT_TAG] : draft.tags,
        anomaly: { suspect: v.suspect, reasons: v.reasons, measures: { ...v.measures } },
      };
    } catch (e) {
      notice?.(`the mass-change check could not run; the snapshot is saved without it: ${describeError(e)}`);
      return draft;
    }
  };
}

/** After a backup: a suspect snapshot is remembered for status until acknowledged. */
export function recordVerdict(catalog: Catalog, snapshotId: string, s: Snapshot, now = Date.now()): void {
  if (!isSuspect(s)) return;
  const prev = readRecorded(catalog);
  const rec: RecordedAnomaly = {
    at: prev?.at ?? now,
    snapshots: [...(prev?.snapshots ?? []), snapshotId],
    message: `snapshot ${snapshotId.slice(0, 8)} is suspect: ${s.anomaly!.reasons.join('; ')}; run "coffre anomaly ack" once it is understood`,
  };
  catalog.setMeta(META_ANOMALY, JSON.stringify(rec));
}

function readRecorded(catalog: Catalog): RecordedAnomaly | undefined {
  const v = catalog.getMeta(META_ANOMALY);
  try {
    return v ? (JSON.parse(v) as RecordedAnomaly) : undefined;
  } catch {
    return undefined;
  }
}

/** Every snapshot id acknowledged in the repository. */
export async function acknowledgedSnapshots(repo: Repository): Promise<Set<string>> {
  const out = new Set<string>();
  for (const id of await listSideObjects(repo, ACKS_PREFIX)) {
    const ack = await getSideObject<AnomalyAck>(repo, ACKS_PREFIX, ACK_PURPOSE, id);
    for (const s of ack.snapshots ?? []) out.add(s);
  }
  return out;
}

/** Drops from the catalog's record what was acknowledged elsewhere (an admin machine). */
export async function refreshRecordedAnomaly(repo: Repository, catalog: Catalog): Promise<void> {
  const rec = readRecorded(catalog);
  if (!rec) return;
  const acked = await acknowledgedSnapshots(repo);
  const left = rec.snapshots.filter((s) => !acked.has(s));
  if (left.length === rec.snapshots.length) return;
  catalog.setMeta(META_ANOMALY, left.length ? JSON.stringify({ ...rec, snapshots: left }) : undefined);
}

export interface AnomalyListing extends SnapshotListing {
  readonly acknowledged: boolean;
}

/** Suspect snapshots, oldest first, with whether each was acknowledged. */
export async function listAnomalies(repo: Repository): Promise<AnomalyListing[]> {
  const acked = await acknowledgedSnapshots(repo);
  return (await repo.snapshots()).filter((e) => isSuspect(e.snapshot)).map((e) => ({ ...toListing(e), acknowledged: acked.has(e.id) }));
}

/**
 * Acknowledges suspect snapshots (all unacknowledged ones, or those named): one object in
 * the repository, and the catalog's record cleared. Returns the ids acknowledged.
 */
export async function ackAnomalies(repo: Repository, catalog: Catalog | undefined, refs: readonly string[] = []): Promise<string[]> {
  const open = (await listAnomalies(repo)).filter((a) => !a.acknowledged);
  let ids = open.map((a) => a.id);
  if (refs.length) {
    ids = [];
    for (const r of refs) {
      const { id, snapshot } = await repo.findSnapshot(r);
      if (!isSuspect(snapshot)) throw new UsageError(`snapshot ${id.slice(0, 8)} is not suspect: nothing to acknowledge`);
      ids.push(id);
    }
  }
  if (ids.length) {
    const ack: AnomalyAck = { version: 1, time: new Date().toISOString(), host: hostname(), username: safeUser(), snapshots: ids };
    await putSideObject(repo, ACKS_PREFIX, ACK_PURPOSE, ack);
  }
  if (catalog) await refreshRecordedAnomaly(repo, catalog);
  return ids;
}

/** Per directory (host and paths): the newest clean snapshot, and where the unacknowledged trouble starts. */
export async function cleanSnapshots(repo: Repository): Promise<GroupState<SnapshotListing & { suspect: boolean }>[]> {
  const acked = await acknowledgedSnapshots(repo);
  return cleanStates((await repo.snapshots()).map(toListing), acked);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}
