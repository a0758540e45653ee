/**
 * Checking a repository. The structural check reads every index object and snapshot and
 * walks every tree: each pack the index names must exist with the recorded size, and each
 * blob a snapshot needs must be indexed. Reading data (all packs, or a deterministic
 * subset) also downloads packs and authenticates every byte: pack against its name,
 * header against the index, every blob by its tag and its id.
 *
 * Damage is reported as findings naming the object and, for each damaged object, the
 * snapshots and files that need it. The checker never writes.
 *
 * Built for S3 at scale: index objects, snapshots and trees are read several at a time
 * (one round trip per directory would dominate), pack contents a few at a time with a
 * bounded number of blobs being opened, so memory does not grow with the repository.
 * Damage findings come at the end, once it is known what each costs.
 * @module
 */
import { createHash } from 'node:crypto';
import { describeError, isStorageError, StorageError, WorkerFailedError } from '../domain/errors.js';
import { isHexId, type BlobId, type IndexId, type PackId } from '../domain/ids.js';
import type { IndexContent, IndexedPack } from '../repository/index-file.js';
import type { PackEntry } from '../repository/pack.js';
import { DATA_PREFIX, idOfKey, packKey } from '../repository/layout.js';
import { forEachLimited, type Repository, type SnapshotEntry } from '../repository/repository.js';
import { TreeLoader } from '../repository/tree-loader.js';
import { RangeBuffers } from '../util/range-buffers.js';
import { Semaphore } from '../util/semaphore.js';
import { affectedByObject } from './affected.js';
import { selectSubset, type Subset } from './subset.js';
import { byCodeUnits } from '../util/order.js';

export interface Finding {
  readonly severity: 'error' | 'warning';
  /** the storage object concerned */
  readonly object: string;
  readonly message: string;
  /** snapshots and files that cannot be restored because of it */
  readonly affects?: readonly { snapshot: string; paths: readonly string[]; count: number }[];
}

export interface CheckOptions {
  /** Download and authenticate pack contents: all of them, or a subset. */
  readonly readData?: boolean | Subset;
  readonly onFinding?: (f: Finding) => void;
  readonly onProgress?: (what: string, done: number, total: number) => void;
  /** Packs read at once with readData (default: half the storage's readsInFlight, at least 2: 2 local, 4 on S3). */
  readonly concurrency?: number;
  /**
   * Index objects the repository's open read and verified just before (Repository.loadIndex's
   * `onRead`): not fetched again, which cost a second download of the whole index on S3. The
   * check still lists index/ and reads whatever is not here (damaged ones included).
   */
  readonly indexesRead?: ReadonlyMap<IndexId, IndexContent>;
}

export interface CheckResult {
  readonly findings: readonly Finding[];
  readonly snapshots: number;
  readonly packs: number;
  readonly blobs: number;
  readonly packsRead: number;
  readonly bytesRead: number;
  readonly ok: boolean;
}

export async function checkRepository(repo: Repository, opts: CheckOptions = {}): Promise<CheckResult> {
  repo.requireFullKey('the repository to check it');
  const findings: Finding[] = [];
  const report = (f: Finding) => {
    findings.push(f);
    opts.onFinding?.(f);
  };
  // Damage that costs blobs: reported at the end, with the files each object costs.
  const damage = new Map<string, { message: string; blobs: Set<BlobId> }>();
  const damaged = (object: string, message: string, blobs: Iterable<BlobId>) => {
    const d = damage.get(object);
    if (d) {
      d.message += `; ${message}`;
      for (const b of blobs) d.blobs.add(b);
    } else damage.set(object, { message, blobs: new Set(blobs) });
  };

  // 1. Index objects: each must open; together they say which packs should exist.
  const packs = new Map<PackId, IndexedPack>();
  const blobPack = new Map<BlobId, PackId>();
  // The check lists index/ itself, so that every index object is judged whatever the caller
  // read before; the ones the open just read and verified are not fetched again.
  await forEachLimited(await repo.listIndexIds(), 8, async (id: IndexId) => {
    try {
      const content = opts.indexesRead?.get(id) ?? (await repo.readIndex(id));
      for (const p of content.packs) {
        packs.set(p.packId, p);
        for (const b of p.blobs) blobPack.set(b.id, p.packId);
      }
    } catch (e) {
      if (isStorageError(e, 'not-found')) return; // listed, then deleted by a prune running meanwhile
      unlessStorageTrouble(e);
      report({ severity: 'error', object: `index/${id}`, message: describeError(e) });
    }
  });

  // 2. Packs in storage against the index.
  const stored = new Map<string, number>();
  for await (const o of repo.storage.list(DATA_PREFIX)) stored.set(idOfKey(o.key), o.size);
  for (const [id, p] of packs) {
    const size = stored.get(id);
    const problem = size === undefined ? 'is missing' : size !== p.size ? `has ${size} bytes, the index says ${p.size}` : undefined;
    if (problem) damaged(packKey(id), `pack ${problem}`, p.blobs.map((b) => b.id));
  }
  for (const id of stored.keys()) {
    if (isHexId(id) && !packs.has(id as PackId)) {
      report({ severity: 'warning', object: packKey(id as PackId), message: 'pack is not in any index (left by an interrupted backup; harmless)' });
    }
  }

  // 3. Snapshots and their trees: everything they need must be indexed and readable.
  const snapshots: SnapshotEntry[] = [];
  await forEachLimited(await repo.listSnapshotIds(), 8, async (id) => {
    try {
      snapshots.push({ id, snapshot: await repo.readSnapshot(id) });
    } catch (e) {
      unlessStorageTrouble(e);
      report({ severity: 'error', object: `snapshots/${id}`, message: describeError(e) });
    }
  });
  snapshots.sort((a, b) => byCodeUnits(a.snapshot.time, b.snapshot.time) || byCodeUnits(a.id, b.id));
  const missingBlobs = new Set<BlobId>();
  const seenTrees = new Set<BlobId>();
  const loader = new TreeLoader(repo);
  const walk = async (treeId: BlobId): Promise<void> => {
    if (seenTrees.has(treeId)) return;
    seenTrees.add(treeId);
    if (!blobPack.has(treeId)) {
      missingBlobs.add(treeId);
      return;
    }
    let tree;
    try {
      tree = await loader.read(treeId);
    } catch (e) {
      unlessStorageTrouble(e);
      damaged(packKey(blobPack.get(treeId)!), describeError(e), [treeId]);
      return;
    }
    const subdirs: Promise<void>[] = [];
    for (const n of tree.nodes) {
      if (n.type === 'dir' && n.subtree) subdirs.push(walk(n.subtree));
      for (const c of n.content ?? []) if (!blobPack.has(c)) missingBlobs.add(c);
    }
    await Promise.all(subdirs);
  };
  for (const [i, s] of snapshots.entries()) {
    await walk(s.snapshot.tree);
    opts.onProgress?.('snapshots', i + 1, snapshots.length);
  }
  if (missingBlobs.size > 0) {
    const bad = findings.filter((f) => f.object.startsWith('index/')).length;
    const why = bad ? ` (${bad} index object(s) are damaged: they may have listed them)` : '';
    damaged('index', `${missingBlobs.size} blob(s) needed by snapshots are in no index${why}`, missingBlobs);
  }

  // 4. Pack contents.
  let packsRead = 0;
  let bytesRead = 0;
  if (opts.readData) {
    const subset = opts.readData === true ? undefined : opts.readData;
    const toRead = selectSubset([...packs.keys()].filter((id) => stored.get(id) === packs.get(id)!.size), subset);
    // packs read at once: half the storage's usual reads in flight (2 on a local disk, 4 on S3)
    const concurrency = opts.concurrency ?? Math.max(2, Math.ceil(repo.storage.capabilities.readsInFlight / 2));
    // pieces in flight over all packs: the storage's usual reads in flight, one more per pack read at once
    const slots = repo.storage.capabilities.readsInFlight + concurrency;
    const pieceBytes = repo.storage.capabilities.readBytes;
    const reading: PackReading = { slots: new Semaphore(slots), buffers: new RangeBuffers(pieceBytes, slots), pieceBytes };
    await forEachLimited(toRead, concurrency, async (id) => {
      const problem = await readPack(repo, packs.get(id)!, reading);
      packsRead++;
      bytesRead += packs.get(id)!.size;
      opts.onProgress?.('packs', packsRead, toRead.length);
      if (problem) damaged(packKey(id), problem.message, problem.blobs);
    });
  }

  // 5. Name what each damaged object costs: which files of which snapshots.
  if (damage.size > 0) {
    const blamed = new Map<BlobId, string[]>();
    for (const [object, d] of damage) {
      for (const b of d.blobs) {
        const list = blamed.get(b);
        if (list) list.push(object);
        else blamed.set(b, [object]);
      }
    }
    const affects = await affectedByObject(repo, snapshots, blamed);
    for (const [object, d] of [...damage].sort(([a], [b]) => byCodeUnits(a, b))) {
      const a = affects.get(object);
      report({ severity: 'error', object, message: a ? d.message : `${d.message} (no snapshot needs it)`, ...(a ? { affects: a } : {}) });
    }
  }

  const blobs = [...packs.values()].reduce((n, p) => n + p.blobs.length, 0);
  return {
    findings,
    snapshots: snapshots.length,
    packs: packs.size,
    blobs,
    packsRead,
    bytesRead,
    ok: !findings.some((f) => f.severity === 'error'),
  };
}

/**
 * How packs are read: in pieces of about the storage's readBytes (a blob larger than that is
 * read alone), from start to end, hashed on the way, each piece opened by a worker thread in
 * place. Memory holds a few pieces, never whole packs (which are 16-24 MiB).
 */
interface PackReading {
  /** pieces being read or opened at once, over all packs */
  readonly slots: Semaphore;
  readonly buffers: RangeBuffers;
  readonly pieceBytes: number;
}

/**
 * Reads a whole pack and authenticates everything in it; returns what is wrong.
 *
 * The header is compared with the index. It is read first only when the blobs' key may
 * depend on it (write-only sessions); otherwise it is parsed from the last piece, which runs
 * to the pack's end, before that piece goes to a worker: one request per pack fewer, the same
 * bytes checked.
 */
async function readPack(repo: Repository, p: IndexedPack, reading: PackReading): Promise<Problem | undefined> {
  const all = p.blobs.map((b) => b.id);
  try {
    if (repo.blobKeysNeedHeaders) return headerProblem(p, await repo.readPackHeader(p.packId, p.size)) ?? (await readPieces(repo, p, reading));
    let header: PackEntry[] | undefined;
    const problem = await readPieces(repo, p, reading, async (last) => void (header = await repo.packHeaderFromTail(p.packId, last, p.size)));
    // no header: the pack could not be read to its end, or its header not parsed; `problem` says which
    return (header && headerProblem(p, header)) ?? problem;
  } catch (e) {
    unlessStorageTrouble(e);
    return { message: describeError(e), blobs: all };
  }
}

interface Problem {
  readonly message: string;
  readonly blobs: BlobId[];
}

function headerProblem(p: IndexedPack, header: readonly PackEntry[]): Problem | undefined {
  const inHeader = new Map(header.map((e) => [e.id, e]));
  const b = p.blobs.find((x) => {
    const h = inHeader.get(x.id);
    return !h || h.offset !== x.offset || h.length !== x.length;
  });
  return b ? { message: `index and pack header disagree on blob ${b.id.slice(0, 8)}`, blobs: p.blobs.map((x) => x.id) } : undefined;
}

/**
 * Reads the pack from start to end in pieces, hashing them in order while workers open them
 * in place; `lastPiece` sees the last piece (header and trailer included) before it is handed
 * over, and a failure there is the pack's problem.
 */
async function readPieces(repo: Repository, p: IndexedPack, reading: PackReading, lastPiece?: (bytes: Buffer) => Promise<void>): Promise<Problem | undefined> {
  const key = packKey(p.packId);
  const all = p.blobs.map((b) => b.id);
  const hash = createHash('sha256');
  const bad: BlobId[] = [];
  const opening: Promise<void>[] = [];
  let stopped: WorkerFailedError | undefined;
  let pos = 0;
  try {
    const groups = pieces(p, reading.pieceBytes);
    for (const [i, piece] of groups.entries()) {
      if (stopped) break;
      // the last piece runs to the end: the header, trailer and padding are hashed too
      const last = piece[piece.length - 1];
      const end = i === groups.length - 1 || !last ? p.size : last.offset + last.length;
      const base = pos;
      await reading.slots.acquire();
      let bytes: Buffer;
      try {
        bytes = await repo.storage.getRange(key, base, end - base, reading.buffers.take(end - base));
        hash.update(bytes);
        if (end === p.size) await lastPiece?.(bytes);
      } catch (e) {
        reading.slots.release();
        throw e;
      }
      pos = end;
      // opened while the next piece is read; the slot is held until the worker is done with it
      opening.push(
        repo
          .restorePackRange(p.packId, bytes, base, piece, { writes: [], files: [] })
          .then(({ report, range }) => {
            reading.buffers.give(range);
            report.blobs.forEach((err, k) => err && bad.push(piece[k]!.id));
          }, (e: unknown) => {
            if (e instanceof WorkerFailedError) stopped ??= e; // the thread died, not the data: thrown below
            else bad.push(...piece.map((b) => b.id));
          })
          .finally(() => reading.slots.release()),
      );
    }
  } catch (e) {
    await Promise.all(opening);
    if (stopped) throw stopped;
    unlessStorageTrouble(e);
    return { message: describeError(e), blobs: all };
  }
  await Promise.all(opening);
  if (stopped) throw stopped;
  if (hash.digest('hex') !== p.packId) {
    return { message: `pack content does not match its name; ${bad.length} of ${p.blobs.length} blob(s) damaged`, blobs: bad };
  }
  return bad.length ? { message: `${bad.length} blob(s) failed authentication`, blobs: bad } : undefined;
}

/** The pack's blobs in order of offset, in groups of at most `pieceBytes` (or one larger blob); one empty group for a pack without blobs. */
function pieces(p: IndexedPack, pieceBytes: number): PackEntry[][] {
  const groups: PackEntry[][] = [];
  for (const b of [...p.blobs].sort((x, y) => x.offset - y.offset)) {
    const g = groups[groups.length - 1];
    if (g && b.offset + b.length - g[0]!.offset <= pieceBytes) g.push(b);
    else groups.push([b]);
  }
  return groups.length > 0 ? groups : [[]];
}

/**
 * A storage that cannot be reached, or refuses us, says nothing about the repository's
 * state: the check stops with that storage error (exit 5) rather than report damage (exit 4,
 * which status turns into "damage found"). Nor does a worker thread that died (exit 1).
 * Missing objects and short objects are damage.
 */
function unlessStorageTrouble(e: unknown): void {
  if (e instanceof StorageError && e.kind !== 'not-found' && e.kind !== 'invalid-range') throw e;
  if (e instanceof WorkerFailedError) throw e;
}
