/**
 * `prune`: the only command that deletes data, built so that it cannot be turned against
 * the backups (DESIGN invariants 6 and 10; docs/FORMAT.md §11).
 *
 * One run does two things:
 *
 * 1. **Finish the plans that are due** (older than the grace period). Everything is
 *    computed again from the repository as it is now — every snapshot and index object,
 *    including those written since the plan — and a planned pack is deleted only if it is
 *    still named by no index object backups see and holds no blob a snapshot needs that is
 *    not also in a pack that stays. A pack that turned out to be needed is taken out of the
 *    plan and made visible again. An object still under Object Lock retention is never
 *    deleted: it stays in the plan, and the report says until when. Index objects go
 *    first, then packs, then the plan: a run killed at any point leaves a repository that
 *    checks clean, and the next run carries on.
 *
 * 2. **Plan**: packs no snapshot uses, packs left by killed backups, and packs mostly unused
 *    (their used blobs are first copied to new packs: repack) become candidates. Index
 *    objects naming them are superseded by new ones naming everything else, so that from
 *    now on no backup deduplicates against a candidate; then the plan object is written.
 *    A backup that had loaded the older index before may still reference a candidate: it
 *    finishes within the grace period, and step 1 of a later run sees its snapshot.
 *
 * Memory stays bounded: the working set is a temporary SQLite file (workspace.ts).
 * @module
 */
import { IntegrityError } from '../domain/errors.js';
import { isHexId, type IndexId, type PackId, type SnapshotId } from '../domain/ids.js';
import { testPauseInPrune } from '../app/test-hooks.js';
import type { IndexedPack } from '../repository/index-file.js';
import { DATA_PREFIX, idOfKey, indexKey, packKey, prunePlanKey } from '../repository/layout.js';
import type { PrunePlan } from '../repository/prune-plan.js';
import { forEachLimited, type Repository } from '../repository/repository.js';
import { markReferences } from './references.js';
import { repack } from './repack.js';
import { PruneWorkspace } from './workspace.js';
import { byCodeUnits } from '../util/order.js';

export interface PruneOptions {
  /** how long a plan must wait before its candidates are deleted: longer than any backup runs */
  readonly graceMs: number;
  /** a pack whose unused share (of its bytes) is at least this is repacked; 1 = never repack */
  readonly repackThreshold: number;
  readonly dryRun?: boolean;
  /** host name recorded in plans */
  readonly host: string;
  /** where the temporary workspace goes (default: the system temp directory) */
  readonly workDir?: string;
  /** ms since the epoch; injected by tests */
  readonly now?: () => number;
  readonly progress?: (message: string) => void;
}

export interface LockWait {
  readonly key: string;
  readonly until: string;
}

export interface PruneReport {
  readonly dryRun: boolean;
  readonly snapshots: number;
  readonly storedPacks: number;
  readonly storedBytes: number;
  /** data blobs snapshots reference that no index object names (damage for `check`) */
  readonly missingBlobs: number;
  /** what due plans deleted (or, on a dry run, would delete) */
  readonly deleted: { readonly plans: number; readonly packs: number; readonly bytes: number; readonly indexes: number };
  /** planned packs found needed again (by a snapshot written meanwhile) and kept */
  readonly keptNeeded: number;
  /** objects a due plan could not delete yet: under Object Lock retention until then */
  readonly waitingForLock: readonly LockWait[];
  /** plans not due yet */
  readonly pending: readonly { readonly id: string; readonly created: string; readonly dueAt: string; readonly packs: number; readonly bytes: number }[];
  /** the plan this run wrote (or, on a dry run, would write) */
  readonly planned?: {
    readonly id?: string;
    readonly deletePacks: number;
    /** bytes freed once the plan is carried out (whole packs, repacked ones included) */
    readonly freeBytes: number;
    readonly repackPacks: number;
    /** bytes copied into new packs by the repack */
    readonly rewriteBytes: number;
    readonly indexes: number;
    readonly dueAt: string;
  };
}

/** Index objects per replacement written when superseding: a few MB each at most. */
const PACKS_PER_REPLACEMENT = 1000;
const DELETE_CONCURRENCY = 8;

export async function prune(repo: Repository, opts: PruneOptions): Promise<PruneReport> {
  if (!(opts.repackThreshold > 0 && opts.repackThreshold <= 1)) throw new RangeError(`repack threshold must be in (0, 1], got ${opts.repackThreshold}`);
  const now = opts.now ?? Date.now;
  const say = opts.progress ?? (() => {});
  const dry = opts.dryRun ?? false;
  const ws = PruneWorkspace.open(opts.workDir);
  try {
    // Snapshots first, then index objects, then packs: a backup commits in the reverse
    // order, so every snapshot listed here has its index objects and packs listed too.
    const snapshotIds = await repo.listSnapshotIds();
    const plans = await repo.prunePlans();
    say(`reading the index objects`);
    await loadIndexes(repo, ws);
    say(`listing packs`);
    const addStored = ws.storedBatch();
    for await (const o of repo.storage.list(DATA_PREFIX)) {
      const id = idOfKey(o.key);
      if (isHexId(id)) addStored(id as PackId, o.size);
    }
    ws.setPlanned(plans.flatMap((p) => p.plan.packs.map((x) => x.id)));
    say(`finding what ${snapshotIds.length} snapshot(s) use`);
    const refs = await markReferences(repo, ws, snapshotIds as SnapshotId[]);
    const before = ws.counts();

    const due = plans.filter((p) => Date.parse(p.plan.created) + opts.graceMs <= now());
    const pending = plans.filter((p) => !due.includes(p));
    const finished = await finishPlans(repo, ws, due, pending, dry, now, say);
    const planned = await planNew(repo, ws, [...pending, ...finished.rewritten], opts, dry, now, say);
    if (!dry) await repo.loadIndex(); // the local catalog follows what was superseded and deleted

    return {
      dryRun: dry,
      snapshots: refs.snapshots,
      storedPacks: before.storedPacks,
      storedBytes: before.storedBytes,
      missingBlobs: refs.missingBlobs,
      deleted: finished.deleted,
      keptNeeded: finished.keptNeeded,
      waitingForLock: finished.waiting,
      pending: pending.map((p) => ({
        id: p.id,
        created: p.plan.created,
        dueAt: new Date(Date.parse(p.plan.created) + opts.graceMs).toISOString(),
        packs: p.plan.packs.length,
        bytes: p.plan.packs.reduce((n, x) => n + x.size, 0),
      })),
      ...(planned ? { planned } : {}),
    };
  } finally {
    ws.close();
  }
}

async function loadIndexes(repo: Repository, ws: PruneWorkspace): Promise<void> {
  const ids = await repo.listIndexIds();
  await forEachLimited(ids, 8, async (id) => {
    let content;
    try {
      content = await repo.readIndex(id);
    } catch (e) {
      // The packs it lists would look unindexed, hence deletable: refuse instead.
      if (e instanceof IntegrityError) {
        throw new IntegrityError(indexKey(id), `prune refused: index object ${id.slice(0, 8)} is damaged (${e.message}); run "coffre check" and repair it first`);
      }
      throw e;
    }
    ws.addIndex(id, content);
  });
  ws.markSuperseded();
}

interface Finished {
  deleted: PruneReport['deleted'];
  keptNeeded: number;
  waiting: LockWait[];
  /** due plans written again with what must still wait (Object Lock) */
  rewritten: { id: string; plan: PrunePlan }[];
}

async function finishPlans(
  repo: Repository,
  ws: PruneWorkspace,
  due: readonly { id: string; plan: PrunePlan }[],
  pending: readonly { id: string; plan: PrunePlan }[],
  dry: boolean,
  now: () => number,
  say: (m: string) => void,
): Promise<Finished> {
  const none: Finished = { deleted: { plans: 0, packs: 0, bytes: 0, indexes: 0 }, keptNeeded: 0, waiting: [], rewritten: [] };
  if (due.length === 0) {
    if (!dry) await resurrect(repo, ws);
    return none;
  }
  say(`carrying out ${due.length} prune plan(s) past their grace period`);
  const doomed = new Set<PackId>();
  const kept = new Set<PackId>();
  for (const { plan } of due) {
    for (const { id } of plan.packs) {
      if (!ws.isStored(id)) continue; // deleted by an earlier run killed before it removed the plan
      // Named by an index object backups see (a backup indexed it after the plan), or
      // holding a blob a snapshot needs and no other pack has: it stays.
      if (ws.isVisible(id) || ws.holdsNeededBlob(id)) kept.add(id);
      else doomed.add(id);
    }
  }
  ws.setPlanned([...pending.flatMap((p) => p.plan.packs.map((x) => x.id)), ...doomed]);
  if (!dry) await resurrect(repo, ws);

  const waiting: LockWait[] = [];
  const locked = async (key: string): Promise<boolean> => {
    // Only a repository that records Object Lock asks (a bucket without it refuses the question).
    const r = repo.config.objectLock ? await repo.storage.retention?.(key) : undefined;
    if (r && r.until.getTime() > now()) {
      waiting.push({ key, until: r.until.toISOString() });
      return true;
    }
    return false;
  };
  // One question per pack (a round trip each on S3): asked several at a time, as deletes go.
  const lockedPacks = new Set<PackId>();
  await forEachLimited([...doomed], DELETE_CONCURRENCY, async (id) => {
    if (await locked(packKey(id))) lockedPacks.add(id);
  });
  const freePacks = new Set([...doomed].filter((id) => !lockedPacks.has(id)));

  // An index object may go once every pack it names is going now, is gone, or is named by
  // another index object that stays visible.
  const dueIndexes = [...new Set(due.flatMap((p) => p.plan.indexes))].filter((i) => ws.indexExists(i));
  const leaving = new Set<IndexId>();
  for (const idx of dueIndexes) {
    const ok = ws.packsOf(idx).every((p) => !ws.isStored(p) || freePacks.has(p) || ws.namedElsewhere(p, idx, leaving));
    if (ok && !(await locked(indexKey(idx)))) leaving.add(idx);
  }
  // A pack still named by an index object that stays must stay with it.
  for (const p of [...freePacks]) {
    if (ws.indexesNaming(p).some((i) => !leaving.has(i))) freePacks.delete(p);
  }
  let spent = 0;
  const bytes = [...freePacks].reduce((n, p) => n + (ws.storedSize(p) ?? 0), 0);
  if (!dry) {
    await forEachLimited([...leaving], DELETE_CONCURRENCY, (idx) => repo.storage.delete(indexKey(idx)));
    for (const idx of leaving) ws.removeIndex(idx);
    // Objects that only superseded the ones just deleted have nothing left to say.
    for (const idx of ws.spentSupersedingIndexes()) {
      if (await locked(indexKey(idx))) continue;
      await repo.storage.delete(indexKey(idx));
      ws.removeIndex(idx);
      spent++;
    }
    await testPauseInPrune('indexes-deleted');
    await forEachLimited([...freePacks], DELETE_CONCURRENCY, async (p) => {
      await repo.storage.delete(packKey(p));
      ws.forgetStored(p);
    });
    await testPauseInPrune('packs-deleted');
  }
  // What must still wait is written into a new plan with the same creation time; then the
  // old plan goes. Killed in between, both exist and the next run merges them.
  const rewritten: { id: string; plan: PrunePlan }[] = [];
  for (const { id, plan } of due) {
    const packs = plan.packs.filter((p) => doomed.has(p.id) && !freePacks.has(p.id) && ws.isStored(p.id));
    const indexes = plan.indexes.filter((i) => ws.indexExists(i) && !leaving.has(i));
    if (dry) continue;
    if (packs.length === plan.packs.length && indexes.length === plan.indexes.length) {
      rewritten.push({ id, plan }); // nothing could go yet (Object Lock): the plan stays as it is
      continue;
    }
    if (packs.length + indexes.length > 0) {
      const next: PrunePlan = { ...plan, packs, indexes };
      const nextId = await repo.savePrunePlan(next);
      rewritten.push({ id: nextId, plan: next });
    }
    if (!rewritten.some((r) => r.id === id)) await repo.storage.delete(prunePlanKey(id));
  }
  return {
    deleted: { plans: due.length, packs: freePacks.size, bytes, indexes: leaving.size + spent },
    keptNeeded: kept.size,
    waiting: waiting.sort((a, b) => byCodeUnits(a.key, b.key)),
    rewritten,
  };
}

/**
 * Stored packs named only by superseded index objects and by no plan are made visible again
 * with a new index object: packs a due plan found needed, or hidden by a run killed between
 * superseding and writing its plan.
 */
async function resurrect(repo: Repository, ws: PruneWorkspace): Promise<void> {
  const hidden = ws.hiddenUnplanned();
  for (let i = 0; i < hidden.length; i += PACKS_PER_REPLACEMENT) {
    const packs = hidden.slice(i, i + PACKS_PER_REPLACEMENT).map((id) => packWithEntries(ws, id));
    const idx = await repo.saveIndex({ supersedes: [], packs });
    ws.addIndex(idx, { supersedes: [], packs });
  }
}

function packWithEntries(ws: PruneWorkspace, id: PackId): IndexedPack {
  const blobs = ws.entriesOf(id).map(({ type, id: blob, offset, length, rawLength }) => ({ type, id: blob, offset, length, rawLength }));
  return { packId: id, size: ws.storedSize(id) ?? ws.packSize(id) ?? 0, blobs };
}

async function planNew(
  repo: Repository,
  ws: PruneWorkspace,
  inForce: readonly { id: string; plan: PrunePlan }[],
  opts: PruneOptions,
  dry: boolean,
  now: () => number,
  say: (m: string) => void,
): Promise<PruneReport['planned'] | undefined> {
  ws.setPlanned(inForce.flatMap((p) => p.plan.packs.map((x) => x.id)));
  const listedIndexes = new Set(inForce.flatMap((p) => p.plan.indexes));
  const remove: { id: PackId; size: number }[] = [];
  const toRepack: { id: PackId; size: number; usedBytes: number }[] = [];
  for (const u of ws.packUsage()) {
    if (ws.isPlanned(u.id)) continue;
    if (u.usedBlobs === 0) remove.push({ id: u.id, size: u.size });
    else if (u.unusedBytes / u.size >= opts.repackThreshold) toRepack.push(u);
  }
  for (const p of ws.unindexedStored()) if (!ws.isPlanned(p.id)) remove.push(p);
  const strayIndexes = [...ws.supersededIndexes(), ...ws.spentSupersedingIndexes()].filter((i) => !listedIndexes.has(i));
  if (remove.length + toRepack.length + strayIndexes.length === 0) return undefined;

  const freeBytes = [...remove, ...toRepack].reduce((n, p) => n + p.size, 0);
  const rewriteBytes = toRepack.reduce((n, p) => n + p.usedBytes, 0);
  const summary = { deletePacks: remove.length, freeBytes, repackPacks: toRepack.length, rewriteBytes };
  if (dry) {
    const superseding = ws.visibleIndexesNaming([...remove, ...toRepack].map((p) => p.id));
    return { ...summary, indexes: new Set([...superseding, ...strayIndexes]).size, dueAt: new Date(now() + opts.graceMs).toISOString() };
  }

  if (toRepack.length) {
    say(`repacking ${toRepack.length} pack(s): ${rewriteBytes} bytes still in use`);
    await repack(repo, ws, toRepack.map((p) => p.id));
    await testPauseInPrune('repacked');
  }
  const candidates = new Set<PackId>([...remove, ...toRepack].map((p) => p.id));
  const superseded = ws.visibleIndexesNaming(candidates);
  if (superseded.length) {
    // New index objects name every other pack of the superseded ones; only once they are
    // all stored does one small object supersede the old ones (a reader never sees a pack
    // of theirs vanish midway).
    const keep = new Set<PackId>();
    for (const idx of superseded) for (const p of ws.packsOf(idx)) if (!candidates.has(p) && ws.isStored(p)) keep.add(p);
    const keepList = [...keep];
    for (let i = 0; i < keepList.length; i += PACKS_PER_REPLACEMENT) {
      const packs = keepList.slice(i, i + PACKS_PER_REPLACEMENT).map((id) => packWithEntries(ws, id));
      const idx = await repo.saveIndex({ supersedes: [], packs });
      ws.addIndex(idx, { supersedes: [], packs });
    }
    const marker = await repo.saveIndex({ supersedes: superseded, packs: [] });
    ws.addIndex(marker, { supersedes: superseded, packs: [] });
    ws.markSuperseded();
    await testPauseInPrune('superseded');
  }
  const plan: PrunePlan = {
    version: 1,
    created: new Date(now()).toISOString(),
    host: opts.host,
    packs: [...remove, ...toRepack].map((p) => ({ id: p.id, size: p.size })),
    indexes: [...new Set([...superseded, ...strayIndexes])],
  };
  const id = await repo.savePrunePlan(plan);
  return { id, ...summary, indexes: plan.indexes.length, dueAt: new Date(Date.parse(plan.created) + opts.graceMs).toISOString() };
}
