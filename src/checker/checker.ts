/**
 * Checking a repository. The structural check reads every index object and snapshot and
 * walks every tree: each pack the index names must exist with the recorded size, and each
 * blob a snapshot needs must be indexed. Reading data (all packs, or a deterministic
 * subset) also downloads packs and authenticates every byte: pack against its name,
 * header against the index, every blob by its tag and its id.
 *
 * Damage is reported as findings naming the object, and, for damaged blobs, the
 * snapshots and files that need them. The checker never writes.
 * @module
 */
import { createHash } from 'node:crypto';
import { describeError } from '../domain/errors.js';
import { isHexId, type BlobId, type IndexId, type PackId } from '../domain/ids.js';
import type { IndexedPack } from '../repository/index-file.js';
import { DATA_PREFIX, idOfKey, packKey } from '../repository/layout.js';
import { forEachLimited, type Repository, type SnapshotEntry } from '../repository/repository.js';
import { affectedFiles } from './affected.js';
import { selectSubset, type Subset } from './subset.js';

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
  const findings: Finding[] = [];
  const report = (f: Finding) => {
    findings.push(f);
    opts.onFinding?.(f);
  };

  // 1. Index objects: each must open; together they say which packs should exist.
  const packs = new Map<PackId, IndexedPack>();
  const blobPack = new Map<BlobId, PackId>();
  const indexIds = await repo.listIndexIds();
  await forEachLimited(indexIds, 8, async (id: IndexId) => {
    try {
      for (const p of (await repo.readIndex(id)).packs) {
        packs.set(p.packId, p);
        for (const b of p.blobs) blobPack.set(b.id, p.packId);
      }
    } catch (e) {
      report({ severity: 'error', object: `index/${id}`, message: describeError(e) });
    }
  });

  // 2. Packs in storage against the index.
  const stored = new Map<string, number>();
  for await (const o of repo.storage.list(DATA_PREFIX)) stored.set(idOfKey(o.key), o.size);
  const damagedBlobs = new Set<BlobId>();
  for (const [id, p] of packs) {
    const size = stored.get(id);
    const problem = size === undefined ? 'is missing' : size !== p.size ? `has ${size} bytes, the index says ${p.size}` : undefined;
    if (problem) {
      report({ severity: 'error', object: packKey(id), message: `pack ${problem}` });
      for (const b of p.blobs) damagedBlobs.add(b.id);
    }
  }
  for (const id of stored.keys()) {
    if (isHexId(id) && !packs.has(id as PackId)) {
      report({ severity: 'warning', object: packKey(id as PackId), message: 'pack is not in any index (left by an interrupted backup; harmless)' });
    }
  }

  // 3. Snapshots and their trees: everything they need must be indexed and readable.
  const snapshots: SnapshotEntry[] = [];
  for (const id of await repo.listSnapshotIds()) {
    try {
      snapshots.push({ id, snapshot: await repo.readSnapshot(id) });
    } catch (e) {
      report({ severity: 'error', object: `snapshots/${id}`, message: describeError(e) });
    }
  }
  const missingBlobs = new Set<BlobId>();
  const seenTrees = new Set<BlobId>();
  const walk = async (treeId: BlobId): Promise<void> => {
    if (seenTrees.has(treeId)) return;
    seenTrees.add(treeId);
    if (!blobPack.has(treeId)) {
      missingBlobs.add(treeId);
      return;
    }
    let tree;
    try {
      tree = await repo.readTree(treeId);
    } catch (e) {
      damagedBlobs.add(treeId);
      report({ severity: 'error', object: packKey(blobPack.get(treeId)!), message: describeError(e) });
      return;
    }
    for (const n of tree.nodes) {
      if (n.type === 'dir' && n.subtree) await walk(n.subtree);
      for (const c of n.content ?? []) if (!blobPack.has(c)) missingBlobs.add(c);
    }
  };
  for (const [i, s] of snapshots.entries()) {
    await walk(s.snapshot.tree);
    opts.onProgress?.('snapshots', i + 1, snapshots.length);
  }
  if (missingBlobs.size > 0) {
    report({ severity: 'error', object: 'index', message: `${missingBlobs.size} blob(s) needed by snapshots are in no index` });
    for (const b of missingBlobs) damagedBlobs.add(b);
  }

  // 4. Pack contents.
  let packsRead = 0;
  let bytesRead = 0;
  if (opts.readData) {
    const subset = opts.readData === true ? undefined : opts.readData;
    const toRead = selectSubset([...packs.keys()].filter((id) => stored.get(id) === packs.get(id)!.size), subset);
    await forEachLimited(toRead, 2, async (id) => {
      const problem = await readPack(repo, packs.get(id)!);
      packsRead++;
      bytesRead += packs.get(id)!.size;
      opts.onProgress?.('packs', packsRead, toRead.length);
      if (problem) {
        report({ severity: 'error', object: packKey(id), message: problem.message });
        for (const b of problem.blobs) damagedBlobs.add(b);
      }
    });
  }

  // 5. Name what the damage costs: which files of which snapshots.
  if (damagedBlobs.size > 0) {
    const affects = await affectedFiles(repo, snapshots, damagedBlobs);
    if (affects.length) {
      report({ severity: 'error', object: 'snapshots', message: `${affects.length} snapshot(s) have files that cannot be restored`, affects });
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

/** Downloads a whole pack and authenticates everything in it; returns what is wrong. */
async function readPack(repo: Repository, p: IndexedPack): Promise<{ message: string; blobs: BlobId[] } | undefined> {
  const key = packKey(p.packId);
  const all = p.blobs.map((b) => b.id);
  let bytes: Buffer;
  try {
    bytes = await repo.storage.get(key);
  } catch (e) {
    return { message: describeError(e), blobs: all };
  }
  if (createHash('sha256').update(bytes).digest('hex') !== p.packId) {
    // Name the blobs that are actually damaged, so unaffected files are not reported.
    const bad = await damagedInPack(repo, p, bytes);
    return { message: `pack content does not match its name; ${bad.length} of ${p.blobs.length} blob(s) damaged`, blobs: bad };
  }
  try {
    const header = repo.packHeaderFromBytes(p.packId, bytes);
    const inHeader = new Map(header.map((e) => [e.id, e]));
    for (const b of p.blobs) {
      const h = inHeader.get(b.id);
      if (!h || h.offset !== b.offset || h.length !== b.length) return { message: `index and pack header disagree on blob ${b.id.slice(0, 8)}`, blobs: all };
    }
  } catch (e) {
    return { message: describeError(e), blobs: all };
  }
  const bad = await damagedInPack(repo, p, bytes);
  return bad.length ? { message: `${bad.length} blob(s) failed authentication`, blobs: bad } : undefined;
}

async function damagedInPack(repo: Repository, p: IndexedPack, bytes: Buffer): Promise<BlobId[]> {
  const bad: BlobId[] = [];
  await Promise.all(
    p.blobs.map(async (b) => {
      const sealed = bytes.subarray(b.offset, b.offset + b.length);
      if (sealed.length !== b.length) return void bad.push(b.id);
      await repo.openBlob({ ...b, packId: p.packId }, Buffer.from(sealed)).catch(() => bad.push(b.id));
    }),
  );
  return bad;
}
