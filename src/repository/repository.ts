/**
 * An open repository: its config and master keys, and every typed read and write of the
 * format, each verified (DESIGN invariant 3). What to write when is decided by callers
 * through WriteSession (packs, then index) and `saveSnapshot` (last).
 * @module
 */
import { createHash, hkdfSync } from 'node:crypto';
import { FormatError, IntegrityError, isStorageError, RepositoryNotFoundError, UsageError, WriteOnlyError } from '../domain/errors.js';
import { idFromBytes, isHexId, type BlobId, type IndexId, type KeyId, type PackId, type SnapshotId } from '../domain/ids.js';
import { keyedId } from '../crypto/blob-id.js';
import type { Body, PutOptions, Storage } from '../storage/storage.js';
import { removeStaleSpools, tempSpoolDir } from './pack-spool.js';
import { CodecPool, type RestoreRangeReport, type RestoreTargets } from '../workers/codec.js';
import type { BlobType } from './blob-codec.js';
import { LayeredBlobIndex, MemoryBlobIndex, type BlobIndex, type IndexedBlob } from './blob-index.js';
import { decodeConfig, encodeConfig, type RepoConfig } from './config.js';
import { envelopeSession, openEnvelope, sealEnvelope, type SealingKey } from './envelope.js';
import { decodeIndex, encodeIndex, type IndexContent } from './index-file.js';
import { createKeyFile, type UnlockedKeys } from './keyfile.js';
import { unlockRepository, type FirstKey, type Unlocked } from './unlock.js';
import { sessionKeyPair, type BoxKeyPair } from '../crypto/sealed-box.js';
import { newSessionKey, openSessionKey, sessionObjectKey, SESSIONS_PREFIX, type WriteSessionKey } from './session.js';
import type { RangeBlob } from '../workers/codec-tasks.js';
import type { KdfChoice } from '../crypto/kdf.js';
import { CONFIG_KEY, idOfKey, INDEX_PREFIX, indexKey, keyFileKey, packKey, PRUNE_PREFIX, prunePlanKey, SNAPSHOTS_PREFIX, snapshotKey } from './layout.js';
import { decodePrunePlan, encodePrunePlan, type PrunePlan } from './prune-plan.js';
import { decodePackHeader, headerLengthFromTrailer, PACK_TRAILER_BYTES, type PackBuilder, type PackEntry } from './pack.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from './snapshot.js';
import { decodeTree, type Tree } from './tree.js';
import type { ObjectCache } from './object-cache.js';
import { byCodeUnits } from '../util/order.js';

export interface OpenOptions {
  /** Where the blob index lives; an in-memory one if not given. */
  readonly index?: BlobIndex;
  /** Worker threads for sealing/opening blobs (default: one per core; 0 = inline). */
  readonly workers?: number;
  /** Local store of decoded snapshots and trees (the catalog); none if not given. */
  readonly cache?: ObjectCache;
  /**
   * Local stores chosen once the config is open (the catalog is per repository id);
   * what it returns takes precedence over `index` and `cache`.
   */
  readonly local?: (config: RepoConfig) => { readonly index?: BlobIndex; readonly cache?: ObjectCache } | undefined;
  /** The key file to try first (see unlockRepository). */
  readonly firstKey?: FirstKey;
}

export interface SnapshotEntry {
  readonly id: SnapshotId;
  readonly snapshot: Snapshot;
}

/** Gets the sealed bytes of an indexed blob (TreeLoader reads trees in blocks through one). */
export type SealedFetch = (b: IndexedBlob) => Promise<Uint8Array>;

/** Index objects are fetched this many at a time when loading the index. */
const INDEX_FETCH_CONCURRENCY = 8;
/** Merging at least this many blobs at once is a bulk merge (BlobIndex.bulk): a rebuilt catalog, not a new backup's index. */
const BULK_MERGE_BLOBS = 100_000;


/**
 * Decoded trees kept in memory are bounded by their entries, not by their number: 4096 trees
 * of directories of 500 files held about 300 bytes per entry, and an unchanged re-backup of
 * 200,000 files grew to 168 MiB keeping every parent tree it had read. A backup reads each
 * parent tree once; restore, find and diff reread shared subtrees, which stay in this bound.
 */
const TREE_CACHE_ENTRIES = 50_000;

export class Repository {
  private readonly treeCache = new Map<BlobId, Tree>();
  /** entries of the trees in treeCache: what bounds it */
  private treeCacheEntries = 0;
  private codecPool: CodecPool | undefined;
  private spoolDirReady: Promise<string> | undefined;
  /** Full key: the data key. Write-only key: undefined (it cannot read history). */
  private readonly dataKey: Buffer | undefined;
  private readonly idKey: Buffer;
  /** Write-only key: the public key new session keys are sealed to. */
  private readonly sessionPublicKey: Buffer | undefined;
  private boxPair: BoxKeyPair | undefined;
  /** Write-only: the session sealing what is written now, and the upload of its `sessions/` object. */
  private session: { readonly key: WriteSessionKey; readonly stored: Promise<void> } | undefined;
  /** Full key: opened session keys, by hex session id. */
  private readonly sessionKeys = new Map<string, Promise<Buffer>>();
  /** Full key: the key of each pack's blobs, once looked up (only when sessions exist). */
  private readonly packKeys = new Map<PackId, Promise<Buffer>>();
  /** Whether any write-only session exists; until then every pack is sealed with the data key. */
  private hasSessions = false;
  /**
   * `open` has just listed `sessions/`: the first `loadIndex`, which follows it at once in every
   * command, need not list it again. Later ones (a long-running agent's next run) do.
   */
  private sessionsJustListed = false;
  /**
   * Write-only, while a prune plan it cannot read is pending: deduplicate against nothing
   * but what the current backup stored (see loadHidden).
   */
  dedupSuspended = false;
  /** Write-only: index objects of other sessions, which it cannot open (skipped from then on). */
  private readonly unreadableIndexes = new Set<IndexId>();

  private constructor(
    readonly storage: Storage,
    readonly config: RepoConfig,
    unlocked: UnlockedKeys,
    /** The key file that opened the repository. */
    readonly keyId: KeyId,
    readonly index: LayeredBlobIndex,
    private readonly workers: number | undefined,
    private readonly cache: ObjectCache | undefined,
  ) {
    this.idKey = unlocked.keys.idKey;
    if (unlocked.kind === 'full') {
      this.dataKey = unlocked.keys.dataKey;
      this.sessionPublicKey = undefined;
    } else {
      this.dataKey = undefined;
      this.sessionPublicKey = unlocked.keys.sessionPublicKey;
    }
  }

  /**
   * Opened with a write-only key (docs/FORMAT.md §10): it can add backups and deduplicate
   * (through its local catalog) but not read what is stored, its own earlier backups included.
   */
  get writeOnly(): boolean {
    return this.dataKey === undefined;
  }

  static async open(storage: Storage, password: Uint8Array, opts: OpenOptions = {}): Promise<Repository> {
    return Repository.openUnlocked(storage, await unlockRepository(storage, password, opts.firstKey), opts);
  }

  /**
   * Opens what `unlockRepository` unlocked. Callers that start the unlock themselves can load
   * this module (and the rest of the engine) while Argon2id runs.
   */
  static async openUnlocked(storage: Storage, unlocked: Unlocked, opts: Omit<OpenOptions, 'firstKey'> = {}): Promise<Repository> {
    const { configBytes, keys, keyId, repositoryId } = unlocked;
    // A write-only key carries the config's plaintext: it cannot open the sealed `config`.
    const config =
      keys.kind === 'full'
        ? decodeConfig(openEnvelope('config', configBytes, keys.keys.dataKey, CONFIG_KEY), CONFIG_KEY)
        : decodeConfig(keys.keys.config, `${keyFileKey(keyId)} (config)`);
    if (config.id !== repositoryId) {
      throw new IntegrityError(CONFIG_KEY, `key file ${keyId.slice(0, 8)} belongs to another repository than ${CONFIG_KEY}`);
    }
    const local = opts.local?.(config);
    const index = local?.index ?? opts.index ?? new MemoryBlobIndex();
    const repo = new Repository(storage, config, keys, keyId, new LayeredBlobIndex(index), opts.workers, local?.cache ?? opts.cache);
    if (!repo.writeOnly) {
      await repo.lookForSessions();
      repo.sessionsJustListed = true;
    }
    return repo;
  }

  /** The blob codec's worker pool, started on first use (write-only: sealing with the current session's key). */
  get codec(): CodecPool {
    if (!this.codecPool) {
      const sealing = this.sealing();
      const packing = { packSize: this.config.packSize, ...(sealing.sessionId ? { sessionId: sealing.sessionId } : {}) };
      this.codecPool = new CodecPool({ dataKey: sealing.key, idKey: this.idKey }, this.config.compression.level, this.config.chunker, packing, this.workers);
    }
    return this.codecPool;
  }

  /**
   * Called before each backup. With a write-only key, starts a new session: the key of the
   * previous one is forgotten (wiped), so what it wrote cannot be read back from this
   * process either, and its `sessions/` object is stored before anything sealed with it.
   */
  async beginBackup(): Promise<void> {
    if (!this.writeOnly) return;
    await this.codecPool?.close();
    this.codecPool = undefined;
    this.session?.key.key.fill(0);
    this.session = undefined;
    await this.currentSession().stored;
  }

  /**
   * Called when a backup ends, however it ends. With a write-only key, wipes the session
   * key at once, so that the process holds no key of a finished backup while it waits for
   * the next one (the next write starts a new session).
   */
  async endBackup(): Promise<void> {
    if (!this.writeOnly || !this.session) return;
    await this.codecPool?.close();
    this.codecPool = undefined;
    await this.session.stored.catch(() => undefined);
    this.session.key.key.fill(0);
    this.session = undefined;
  }

  private currentSession(): { readonly key: WriteSessionKey; readonly stored: Promise<void> } {
    if (!this.session) {
      const key = newSessionKey(this.sessionPublicKey!, this.config.id);
      const stored = this.putNew(sessionObjectKey(key.id.toString('hex')), key.object);
      stored.catch(() => undefined); // awaited (and so reported) by every write sealed with it
      this.session = { key, stored };
    }
    return this.session;
  }

  /** The key new objects are sealed with. */
  private sealing(): SealingKey {
    if (this.dataKey) return { key: this.dataKey };
    const s = this.currentSession().key;
    return { key: s.key, sessionId: s.id };
  }

  /** Write-only: waits until the session's key is stored (nothing sealed with it may land before). */
  private async sessionReady(): Promise<void> {
    if (this.writeOnly) await this.currentSession().stored;
  }

  private async lookForSessions(): Promise<void> {
    if (this.hasSessions) return;
    for await (const o of this.storage.list(SESSIONS_PREFIX)) {
      if (isHexId(idOfKey(o.key))) {
        this.hasSessions = true;
        return;
      }
    }
  }

  /** Refuses, with one clear line, an operation that must read history with a write-only key. */
  requireFullKey(what: string): void {
    this.needFullKey(what);
  }

  private needFullKey(what: string): Buffer {
    if (this.dataKey) return this.dataKey;
    throw new WriteOnlyError(`this is a write-only key: it cannot read ${what}`, {
      hint: 'restore, check --read-data and drills need a full key (the admin passphrase or the recovery key), on an admin machine',
    });
  }

  /** The key an envelope was sealed with: the data key, or its session's key. */
  private async envelopeKey(bytes: Uint8Array, objectKey: string): Promise<Buffer> {
    const sid = envelopeSession(bytes, objectKey);
    if (!sid) return this.needFullKey(objectKey);
    if (this.session?.key.id.equals(sid)) return this.session.key.key;
    this.needFullKey(objectKey);
    this.hasSessions = true;
    return this.sessionKey(sid.toString('hex'));
  }

  /** Opens `sessions/<id>` with the session key pair derived from the data key (cached). */
  private sessionKey(id: string): Promise<Buffer> {
    let p = this.sessionKeys.get(id);
    if (!p) {
      const key = sessionObjectKey(id);
      p = this.storage.get(key).then((bytes) => {
        checkName(key, id, bytes);
        this.boxPair ??= sessionKeyPair(this.needFullKey(key));
        return openSessionKey(bytes, this.boxPair, this.config.id, key);
      });
      p.catch(() => this.sessionKeys.delete(id));
      this.sessionKeys.set(id, p);
    }
    return p;
  }

  /**
   * Whether opening a pack's blobs may need its header first: only when some pack may be
   * sealed with a session's key (otherwise every blob key is the data key).
   */
  get blobKeysNeedHeaders(): boolean {
    return this.hasSessions;
  }

  /**
   * The key of a pack's blobs: the key of its header (docs/FORMAT.md §10). Without any
   * session in the repository that is the data key, with no request; otherwise the clear
   * start of the pack's header says which, read once per pack.
   */
  private packBlobKey(id: PackId): Promise<Buffer> {
    const dataKey = this.needFullKey(packKey(id));
    if (!this.hasSessions) return Promise.resolve(dataKey);
    let p = this.packKeys.get(id);
    if (!p) {
      p = this.readPackHeaderStart(id).then((start) => this.envelopeKey(start, packKey(id)));
      p.catch(() => this.packKeys.delete(id));
      this.packKeys.set(id, p);
    }
    return p;
  }

  /** The first bytes of a pack's sealed header (version, key kind, session id). */
  private async readPackHeaderStart(id: PackId): Promise<Buffer> {
    const key = packKey(id);
    const total = (await this.storage.stat(key)).size;
    if (total < PACK_TRAILER_BYTES) throw new IntegrityError(key, `${key}: truncated pack (${total} bytes)`);
    const headerLen = headerLengthFromTrailer(await this.storage.getRange(key, total - PACK_TRAILER_BYTES, PACK_TRAILER_BYTES), total, key);
    return this.storage.getRange(key, total - PACK_TRAILER_BYTES - headerLen, Math.min(headerLen, 34));
  }

  /** The session public key a write-only key file needs (derived from the data key). */
  publicSessionKey(): Buffer {
    this.boxPair ??= sessionKeyPair(this.needFullKey('the session key pair'));
    return this.boxPair.publicKey;
  }

  async close(): Promise<void> {
    await this.codecPool?.close();
    this.codecPool = undefined;
  }

  blobId(raw: Uint8Array): BlobId {
    return idFromBytes<BlobId>(keyedId(this.idKey, raw));
  }

  /** Options for every new object: Object Lock retention when the repository uses it. */
  putOptions(now = Date.now()): PutOptions {
    const lock = this.config.objectLock;
    if (!lock) return {};
    return { retention: { mode: lock.mode, until: new Date(now + lock.days * 86_400_000) } };
  }

  // ---- index -------------------------------------------------------------------------

  /**
   * Index objects the last `loadIndex` found damaged (IntegrityError): they were skipped,
   * so the blobs only they list are unknown. Restores then fail just the files needing
   * those blobs, a backup stores such blobs again, and check and drills report them.
   */
  readonly damagedIndexes: { readonly object: string; readonly message: string }[] = [];

  /**
   * Merges every index object not merged yet into the blob index. If an index object the
   * blob index knows has disappeared (a prune elsewhere), or a new one supersedes one it
   * merged (a prune hid packs it marked for deletion), it is rebuilt from scratch.
   * Superseded index objects are never merged (docs/FORMAT.md §8, §11): that is what keeps
   * a backup from deduplicating against packs a prune is about to delete.
   * A damaged index object is skipped and listed in `damagedIndexes`, never merged.
   * `onRead` sees each index object read (a check uses them rather than fetch them again).
   */
  async loadIndex(onProgress?: (done: number, total: number) => void, onRead?: (id: IndexId, content: IndexContent) => void): Promise<void> {
    const present = new Set<IndexId>();
    for await (const o of this.storage.list(INDEX_PREFIX)) {
      const id = idOfKey(o.key);
      if (isHexId(id)) present.add(id as IndexId);
    }
    const merged = this.index.mergedIndexes();
    const read = new Map<IndexId, IndexContent>();
    const damaged: { object: string; message: string }[] = [];
    const fetchAll = async (ids: readonly IndexId[]) =>
      forEachLimited(ids, INDEX_FETCH_CONCURRENCY, async (id) => {
        if (read.has(id)) return;
        try {
          const content = await this.readIndex(id);
          read.set(id, content);
          onRead?.(id, content);
        } catch (e) {
          // Listed a moment ago, deleted since: a prune elsewhere removed a superseded object.
          if (isStorageError(e, 'not-found')) return;
          // A write-only key cannot open index objects of other sessions: it deduplicates
          // against what its catalog knows. Not marked as merged in the catalog: a full key
          // using the same catalog later must still merge it (or its blobs would be missing).
          if (e instanceof WriteOnlyError) return void this.unreadableIndexes.add(id);
          if (!(e instanceof IntegrityError)) throw e;
          damaged.push({ object: indexKey(id), message: e.message });
        }
        onProgress?.(read.size + damaged.length, present.size);
      });
    if (!this.writeOnly && !this.sessionsJustListed) await this.lookForSessions();
    this.sessionsJustListed = false;
    await fetchAll([...present].filter((id) => !merged.has(id) && !this.unreadableIndexes.has(id)));
    const superseded = new Set<IndexId>();
    for (const c of read.values()) for (const s of c.supersedes) superseded.add(s);
    const gone = [...merged].some((id) => !present.has(id));
    if (gone || [...merged].some((id) => superseded.has(id))) {
      if (gone) {
        // Index objects known before are gone. That is a prune elsewhere, or the repository
        // itself vanished (a volume not mounted, a wrong prefix): in the second case clearing
        // the mirror would be wrong and later writes would land outside any repository.
        await this.storage.stat(CONFIG_KEY).catch((e: unknown) => {
          if (isStorageError(e, 'not-found')) {
            throw new RepositoryNotFoundError(`the repository at ${this.storage.location} has disappeared (no config object)`);
          }
          throw e;
        });
      }
      this.index.clear();
      await fetchAll([...present]);
      for (const c of read.values()) for (const s of c.supersedes) superseded.add(s);
    }
    this.damagedIndexes.length = 0;
    this.damagedIndexes.push(...damaged);
    const merge = () => {
      for (const [id, content] of read) {
        if (this.index.mergedIndexes().has(id)) continue;
        // A superseded object is recorded as merged with no packs, so it is not fetched again.
        this.index.addPacks(superseded.has(id) ? [] : content.packs, id);
      }
    };
    const blobs = [...read.values()].reduce((n, c) => n + c.packs.reduce((m, p) => m + p.blobs.length, 0), 0);
    if (blobs >= BULK_MERGE_BLOBS) this.index.bulk(merge);
    else merge();
    await this.loadHidden(present, read);
  }

  /**
   * The packs of index objects that prune plans mark for deletion, as the index's hidden
   * layer: readable (a snapshot written during the plan's grace period may need them until
   * the plan is carried out), never deduplicated against.
   */
  private async loadHidden(present: ReadonlySet<IndexId>, read: ReadonlyMap<IndexId, IndexContent>): Promise<void> {
    if (this.writeOnly) {
      // Prune plans are sealed with the data key: a write-only key cannot tell which packs
      // they doom. While any plan is pending it deduplicates against nothing older than its
      // own current backup, so that no new snapshot can lean on a pack about to be deleted.
      let pending = false;
      for await (const o of this.storage.list(PRUNE_PREFIX)) if (isHexId(idOfKey(o.key))) pending = true;
      this.dedupSuspended = pending;
      return;
    }
    const wanted = new Set<IndexId>();
    let plans: { plan: PrunePlan }[] = [];
    try {
      plans = await this.prunePlans();
    } catch (e) {
      // A damaged plan must not stop backups and restores; prune itself reports it.
      if (!(e instanceof IntegrityError) && !(e instanceof FormatError)) throw e;
    }
    for (const { plan } of plans) for (const i of plan.indexes) if (present.has(i)) wanted.add(i);
    const packs: IndexContent['packs'][] = [];
    await forEachLimited([...wanted], INDEX_FETCH_CONCURRENCY, async (id) => {
      const known = read.get(id);
      if (known) return void packs.push(known.packs);
      try {
        packs.push((await this.readIndex(id)).packs);
      } catch (e) {
        if (!(e instanceof IntegrityError) && !isStorageError(e, 'not-found')) throw e;
      }
    });
    this.index.setHidden(packs.flat());
  }

  async readIndex(id: IndexId): Promise<IndexContent> {
    const key = indexKey(id);
    const bytes = await this.storage.get(key);
    checkName(key, id, bytes);
    return decodeIndex(openEnvelope('index', bytes, await this.envelopeKey(bytes, key), key), key);
  }

  async listIndexIds(): Promise<IndexId[]> {
    const ids: IndexId[] = [];
    for await (const o of this.storage.list(INDEX_PREFIX)) if (isHexId(idOfKey(o.key))) ids.push(idOfKey(o.key) as IndexId);
    return ids;
  }

  async saveIndex(content: IndexContent): Promise<IndexId> {
    await this.sessionReady();
    const bytes = sealEnvelope('index', encodeIndex(content), this.sealing(), this.config.compression);
    const id = sha256Id<IndexId>(bytes);
    await this.putNew(indexKey(id), bytes);
    return id;
  }

  // ---- packs and blobs ---------------------------------------------------------------

  /** The key packs written now are sealed with (for the size of their header: see packIsFull). */
  packSealing(): SealingKey {
    return this.sealing();
  }

  /** Seals the header of a filled pack (with the key its blobs were sealed with); the result is ready for `savePack`. */
  finishPack(builder: PackBuilder): { id: PackId; bytes: Buffer; entries: PackEntry[] } {
    return builder.finish(this.sealing());
  }

  async savePack(id: PackId, body: Body): Promise<void> {
    await this.sessionReady();
    await this.putNew(packKey(id), body);
  }

  /**
   * Where worker threads write the packs they fill before storage takes them: the storage's
   * own directory when it has one (the local backend links the file into place), else a
   * private directory under $TMPDIR. Packs hold sealed blobs only. Files a killed backup left
   * there are removed first.
   */
  spoolDir(): Promise<string> {
    this.spoolDirReady ??= (async () => {
      const dir = (await this.storage.spoolDir?.()) ?? (await tempSpoolDir());
      removeStaleSpools(dir);
      return dir;
    })();
    return this.spoolDirReady;
  }

  /** Reads and authenticates a pack header; the pack's size is looked up when not given. */
  async readPackHeader(id: PackId, size?: number): Promise<PackEntry[]> {
    const key = packKey(id);
    const total = size ?? (await this.storage.stat(key)).size;
    if (total < PACK_TRAILER_BYTES) throw new IntegrityError(key, `${key}: truncated pack (${total} bytes)`);
    // One read usually covers trailer and header (a 4 KiB-aligned header for up to ~90 blobs).
    const guess = Math.min(total, 16 * 1024);
    let tail = await this.storage.getRange(key, total - guess, guess);
    const headerLen = headerLengthFromTrailer(tail, total, key);
    if (headerLen + PACK_TRAILER_BYTES > guess) {
      tail = await this.storage.getRange(key, total - PACK_TRAILER_BYTES - headerLen, headerLen + PACK_TRAILER_BYTES);
    }
    return this.packHeaderFromTail(id, tail, total);
  }

  /**
   * The header of a pack of `total` bytes from `tail`, bytes that end where the pack ends and
   * hold its sealed header and trailer (a check, which reads whole packs, has them anyway).
   */
  async packHeaderFromTail(id: PackId, tail: Uint8Array, total: number): Promise<PackEntry[]> {
    const key = packKey(id);
    const headerLen = headerLengthFromTrailer(tail, total, key);
    if (headerLen + PACK_TRAILER_BYTES > tail.length) throw new IntegrityError(key, `${key}: pack header overlaps its blobs`);
    const sealedHeader = tail.subarray(tail.length - PACK_TRAILER_BYTES - headerLen, tail.length - PACK_TRAILER_BYTES);
    return this.decodeHeader(id, sealedHeader, total);
  }

  private async decodeHeader(id: PackId, sealedHeader: Uint8Array, total: number): Promise<PackEntry[]> {
    const key = packKey(id);
    const headerKey = await this.envelopeKey(sealedHeader, key);
    const entries = decodePackHeader(sealedHeader, total, headerKey, key);
    if (this.hasSessions && !this.packKeys.has(id)) this.packKeys.set(id, Promise.resolve(headerKey));
    return entries;
  }

  /** Opens one sealed blob already fetched from its pack. */
  async openBlob(b: IndexedBlob, sealed: Uint8Array): Promise<Buffer> {
    const key = await this.packBlobKey(b.packId);
    return this.codec.open(b.type, b.id, sealed, b.rawLength, packKey(b.packId), key === this.dataKey ? undefined : key);
  }

  /**
   * A sealed blob of pack `packId` made ready for a new pack sealed with the data key
   * (prune's repack): as it is when its pack uses the data key; else opened with its
   * session's key and sealed again, since a pack's blobs use its header's key (FORMAT §10).
   */
  async blobForRepack(packId: PackId, b: PackEntry, sealed: Uint8Array): Promise<Buffer> {
    const key = await this.packBlobKey(packId);
    if (key === this.dataKey) return Buffer.from(sealed);
    return this.codec.seal(b.type, b.id, await this.openBlob({ ...b, packId }, sealed));
  }

  /**
   * Opens every blob of one fetched range of a pack and writes it to the restored files (see
   * CodecPool.restoreRange); `range` is given up, and its memory comes back for reuse.
   */
  async restorePackRange(
    packId: PackId,
    range: Buffer,
    base: number,
    blobs: readonly RangeBlob[],
    targets: RestoreTargets,
  ): Promise<{ report: RestoreRangeReport; range?: Buffer }> {
    const key = await this.packBlobKey(packId);
    return this.codec.restoreRange(range, base, blobs, packKey(packId), targets, key === this.dataKey ? undefined : key);
  }

  /**
   * `fetch` gets the sealed bytes of a blob (a caller batching reads); a ranged read by default.
   * The blob may be stored under the other type: dedup is by id, so a directory listing whose
   * bytes equal a file's content reuses that file's blob (a user can craft such a file). The
   * stored type only binds the encryption; the plaintext is still checked against the id.
   */
  async readBlob(type: BlobType, id: BlobId, fetch?: SealedFetch): Promise<Buffer> {
    const b = this.index.lookup(id);
    if (!b) throw new IntegrityError(`blob ${id}`, `${type} blob ${id.slice(0, 8)} is not in the repository index`);
    const sealed = fetch ? await fetch(b) : await this.storage.getRange(packKey(b.packId), b.offset, b.length);
    return this.openBlob(b, sealed);
  }

  async readTree(id: BlobId, fetch?: SealedFetch): Promise<Tree> {
    const cached = this.treeCache.get(id);
    if (cached) return cached;
    // The local cache is trusted for speed but not for truth: a tree it returns must still
    // match its keyed id (a damaged or altered catalog row falls back to the repository).
    const cachedPlain = this.cache?.tree(id);
    const local = cachedPlain && this.blobId(cachedPlain) === id ? cachedPlain : undefined;
    const plain = local ?? (await this.readBlob('tree', id, fetch));
    const tree = decodeTree(plain, `tree ${id}`);
    if (!local) this.cache?.putTree(id, plain);
    this.cacheTree(id, tree);
    return tree;
  }

  /** Keeps a decoded tree, forgetting the oldest ones while the cache holds too many entries. */
  private cacheTree(id: BlobId, tree: Tree): void {
    const weight = tree.nodes.length + 1;
    if (weight > TREE_CACHE_ENTRIES) return;
    for (const [oldId, old] of this.treeCache) {
      if (this.treeCacheEntries + weight <= TREE_CACHE_ENTRIES) break;
      this.treeCache.delete(oldId);
      this.treeCacheEntries -= old.nodes.length + 1;
    }
    this.treeCache.set(id, tree);
    this.treeCacheEntries += weight;
  }

  /**
   * Forgets the decoded trees kept in memory (up to TREE_CACHE_ENTRIES entries). A long-lived
   * process (the agent) calls it between jobs, so that its memory stays flat; the catalog
   * keeps them on disk.
   */
  dropTreeCache(): void {
    this.treeCache.clear();
    this.treeCacheEntries = 0;
  }

  /** The entries of the decoded trees kept in memory (for tests and diagnostics). */
  get cachedTreeEntries(): number {
    return this.treeCacheEntries;
  }

  // ---- snapshots ---------------------------------------------------------------------

  /** The commit point of a backup: call only once everything it references is stored. */
  async saveSnapshot(s: Snapshot): Promise<SnapshotId> {
    await this.sessionReady();
    const bytes = sealEnvelope('snapshot', encodeSnapshot(s), this.sealing(), this.config.compression);
    const id = sha256Id<SnapshotId>(bytes);
    await this.putNew(snapshotKey(id), bytes);
    this.cache?.putSnapshot(id, encodeSnapshot(s));
    return id;
  }

  async readSnapshot(id: SnapshotId): Promise<Snapshot> {
    const key = snapshotKey(id);
    const local = this.cache?.snapshot(id);
    if (local) return decodeSnapshot(local, key);
    const bytes = await this.storage.get(key);
    checkName(key, id, bytes);
    const plain = openEnvelope('snapshot', bytes, await this.envelopeKey(bytes, key), key);
    const s = decodeSnapshot(plain, key);
    this.cache?.putSnapshot(id, plain);
    return s;
  }

  /**
   * A tree this machine just encoded, for the local cache (the next backup's parent tree,
   * find, diff): it is content-addressed, so caching it before it is stored is harmless.
   */
  rememberTree(id: BlobId, plaintext: Uint8Array): void {
    this.cache?.putTree(id, plaintext);
  }

  async listSnapshotIds(): Promise<SnapshotId[]> {
    const ids: SnapshotId[] = [];
    for await (const o of this.storage.list(SNAPSHOTS_PREFIX)) if (isHexId(idOfKey(o.key))) ids.push(idOfKey(o.key) as SnapshotId);
    return ids;
  }

  /** Every snapshot, oldest first (with a write-only key: only those its catalog holds). */
  async snapshots(): Promise<SnapshotEntry[]> {
    const ids = await this.listSnapshotIds();
    const out: SnapshotEntry[] = [];
    await forEachLimited(ids, INDEX_FETCH_CONCURRENCY, async (id) => {
      try {
        out.push({ id, snapshot: await this.readSnapshot(id) });
      } catch (e) {
        if (!(e instanceof WriteOnlyError)) throw e;
      }
    });
    return out.sort((a, b) => byCodeUnits(a.snapshot.time, b.snapshot.time) || byCodeUnits(a.id, b.id));
  }

  /** Resolves "latest", a full id or a unique id prefix (at least 4 hex characters). */
  async findSnapshot(ref: string): Promise<SnapshotEntry> {
    if (ref === 'latest') {
      const all = await this.snapshots();
      const last = all[all.length - 1];
      if (!last) throw new UsageError(`no snapshot in ${this.storage.location}`);
      return last;
    }
    if (!/^[0-9a-f]{4,64}$/.test(ref)) throw new UsageError(`invalid snapshot id "${ref}"`);
    const matches = (await this.listSnapshotIds()).filter((id) => id.startsWith(ref));
    if (matches.length === 0) throw new UsageError(`no snapshot ${ref} in ${this.storage.location}`);
    if (matches.length > 1) throw new UsageError(`snapshot id prefix ${ref} is ambiguous (${matches.length} matches)`);
    const id = matches[0]!;
    return { id, snapshot: await this.readSnapshot(id) };
  }

  // ---- prune plans -------------------------------------------------------------------

  async savePrunePlan(plan: PrunePlan): Promise<string> {
    const bytes = sealEnvelope('prune-plan', encodePrunePlan(plan), this.needFullKey('prune plans (prune needs a full key)'), this.config.compression);
    const id = sha256Id<IndexId>(bytes);
    await this.putNew(prunePlanKey(id), bytes);
    return id;
  }

  async readPrunePlan(id: string): Promise<PrunePlan> {
    const key = prunePlanKey(id);
    const bytes = await this.storage.get(key);
    checkName(key, id, bytes);
    return decodePrunePlan(openEnvelope('prune-plan', bytes, this.needFullKey(key), key), key);
  }

  /** Every prune plan in the repository (a handful at most), with its id. */
  async prunePlans(): Promise<{ id: string; plan: PrunePlan }[]> {
    const out: { id: string; plan: PrunePlan }[] = [];
    for await (const o of this.storage.list(PRUNE_PREFIX)) {
      const id = idOfKey(o.key);
      if (!isHexId(id)) continue;
      try {
        out.push({ id, plan: await this.readPrunePlan(id) });
      } catch (e) {
        if (!isStorageError(e, 'not-found')) throw e; // carried out meanwhile by another prune
      }
    }
    return out.sort((a, b) => byCodeUnits(a.plan.created, b.plan.created) || byCodeUnits(a.id, b.id));
  }

  // ---- keys ---------------------------------------------------------------------------

  /**
   * A key for one purpose beyond blobs (audit entries, anomaly acknowledgements):
   * HKDF-SHA-256 of the id key, never the data key, so that an agent holding only the id
   * key (a write-only agent, FORMAT §10) can still write and verify them (FORMAT §14).
   */
  derivedKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.idKey, Buffer.alloc(0), `coffre/v1/${purpose}`, 32));
  }

  /** Adds a key file wrapping the same master keys under another passphrase. */
  async addKey(password: Uint8Array, opts: { profile: KdfChoice; label: string; writeOnly?: boolean }): Promise<KeyId> {
    // A write-only key can re-wrap its own material (key passwd), never create a full key.
    const writeOnly = opts.writeOnly ?? this.writeOnly;
    const keys = writeOnly
      ? { idKey: this.idKey, sessionPublicKey: this.sessionPublicKey ?? this.publicSessionKey(), config: encodeConfig(this.config) }
      : { dataKey: this.needFullKey('the master keys (adding a full key needs a full key)'), idKey: this.idKey };
    const { id, bytes } = await createKeyFile(keys, password, this.config.id, opts);
    await this.putNew(keyFileKey(id), bytes);
    return id;
  }

  // ---- shared -------------------------------------------------------------------------

  /**
   * Writes a content-addressed object. An existing object of that name has these very
   * bytes (the name is their hash), so "already exists" is success: this is what lets a
   * resumed backup re-send a pack without harm.
   */
  private async putNew(key: string, body: Body): Promise<void> {
    try {
      await this.storage.put(key, body, this.putOptions());
    } catch (e) {
      if (!isStorageError(e, 'already-exists')) throw e;
    }
  }
}

function sha256Id<T extends IndexId | SnapshotId | PackId | KeyId>(bytes: Uint8Array): T {
  return idFromBytes<T>(createHash('sha256').update(bytes).digest());
}

/** An object whose bytes do not hash to its name was altered or truncated in storage. */
export function checkName(key: string, id: string, bytes: Uint8Array): void {
  if (createHash('sha256').update(bytes).digest('hex') !== id) {
    throw new IntegrityError(key, `${key}: content does not match its name (damaged or truncated, ${bytes.length} bytes)`);
  }
}

/**
 * Runs `fn` over `items` with at most `limit` running at once. After an error no item starts,
 * and the first error is thrown once those running have settled: nothing is left working
 * after this returns (a caller closes the repository next, and a straggler would reopen its
 * worker threads and keep the process alive).
 *
 * `items` may be produced as they are needed (an async generator walking a snapshot): each
 * runner takes the next item when it is free, so the producer runs at most one item ahead of
 * what is being worked on, and is closed after a failure.
 */
export async function forEachLimited<T>(items: Iterable<T> | AsyncIterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it: Iterator<T> | AsyncIterator<T> = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  let done = false;
  const runners = Array.from({ length: limit }, async () => {
    while (!failure && !done) {
      let next: IteratorResult<T>;
      try {
        const n = it.next();
        next = n instanceof Promise ? await n : n;
      } catch (error) {
        failure ??= { error };
        return;
      }
      if (next.done) {
        done = true;
        return;
      }
      try {
        await fn(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(runners);
  if (failure) {
    try {
      await it.return?.(); // a generator's own clean-up; its failure would hide the first one
    } catch {
      // the first error is the one to report
    }
    throw failure.error;
  }
}
