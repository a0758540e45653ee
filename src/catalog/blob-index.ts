/**
 * The chunk index on disk: the repository's BlobIndex port over SQLite, so that memory
 * stays flat with millions of blobs. One transaction per index object (or stored pack),
 * prepared statements throughout.
 *
 * It is also the journal of packs that are stored but in no index object yet: a backup
 * records each pack just before its upload (`journalUpload`) and the moment it is stored
 * (`addPacks` without an index object), so that after a crash the next run can write the
 * index object for them instead of uploading their blobs again — even for a pack whose
 * upload completed in the instant before the kill (DESIGN invariant 5; repository/resume.ts).
 * @module
 */
import type { BlobId, IndexId, PackId } from '../domain/ids.js';
import type { BlobType } from '../repository/blob-codec.js';
import type { BlobIndex, IndexedBlob } from '../repository/blob-index.js';
import type { IndexedPack } from '../repository/index-file.js';
import type { PackEntry } from '../repository/pack.js';
import type { PackJournal } from '../repository/resume.js';
import type { Db } from './catalog.js';

const TYPE_CODE: Record<BlobType, number> = { data: 0, tree: 1 };
const TYPES: readonly BlobType[] = ['data', 'tree'];
/** type u8 ‖ id 32 ‖ offset u32 ‖ length u32 ‖ rawLength u32 (the catalog's own encoding). */
const ENTRY = 45;

type Stmt<P extends unknown[] = unknown[], R = unknown> = import('better-sqlite3').Statement<P, R>;

/** The catalog's page cache, in KiB (catalog.ts): bounded, since a backup of many files fills it. */
export const CACHE_KIB = 16 * 1024;
/**
 * The page cache during a bulk merge of index objects: blob ids are random, so inserts touch
 * pages all over the chunk index. Merging a million blobs took 15.8-17.4 s with 64 MiB,
 * 19.6-20.9 s with 16 MiB.
 */
const BULK_CACHE_KIB = 64 * 1024;

export class SqliteBlobIndex implements BlobIndex, PackJournal {
  private merged: Set<IndexId> | undefined;
  private readonly q: {
    lookup: Stmt<[Buffer], [number, number, number, number, Buffer]>;
    has: Stmt<[Buffer], number>;
    packSeq: Stmt<[Buffer], number>;
    insertPack: Stmt<[Buffer, number, Buffer | null, Buffer | null, number]>;
    markIndexed: Stmt<[Buffer, number]>;
    insertBlob: Stmt<[Buffer, number, number, number, number, number]>;
    insertIndexObject: Stmt<[Buffer, number]>;
    uploadDone: Stmt<[Buffer]>;
  };

  constructor(private readonly db: Db) {
    this.q = {
      lookup: db
        .prepare<[Buffer], [number, number, number, number, Buffer]>(
          'SELECT b.type, b.offset, b.length, b.raw_length, p.id FROM blobs b JOIN packs p ON p.seq = b.pack WHERE b.id = ?',
        )
        .raw(),
      has: db.prepare<[Buffer], number>('SELECT 1 FROM blobs WHERE id = ?').pluck(),
      packSeq: db.prepare<[Buffer], number>('SELECT seq FROM packs WHERE id = ?').pluck(),
      insertPack: db.prepare('INSERT INTO packs (id, size, index_id, entries, recorded_at) VALUES (?, ?, ?, ?, ?)'),
      markIndexed: db.prepare('UPDATE packs SET index_id = ?, entries = NULL WHERE seq = ? AND index_id IS NULL'),
      insertBlob: db.prepare('INSERT OR IGNORE INTO blobs (id, pack, type, offset, length, raw_length) VALUES (?, ?, ?, ?, ?, ?)'),
      insertIndexObject: db.prepare('INSERT OR IGNORE INTO index_objects (id, merged_at) VALUES (?, ?)'),
      uploadDone: db.prepare('DELETE FROM uploads WHERE pack_id = ?'),
    };
  }

  lookup(id: BlobId): IndexedBlob | undefined {
    const row = this.q.lookup.get(Buffer.from(id, 'hex'));
    if (!row) return undefined;
    return { type: TYPES[row[0]]!, id, offset: row[1], length: row[2], rawLength: row[3], packId: row[4].toString('hex') as PackId };
  }

  has(id: BlobId): boolean {
    return this.q.has.get(Buffer.from(id, 'hex')) !== undefined;
  }

  bulk(merge: () => void): void {
    this.db.pragma(`cache_size = -${BULK_CACHE_KIB}`);
    try {
      merge();
    } finally {
      this.db.pragma(`cache_size = -${CACHE_KIB}`);
    }
  }

  addPacks(packs: readonly IndexedPack[], from?: IndexId): void {
    const now = Date.now();
    const fromBuf = from ? Buffer.from(from, 'hex') : null;
    this.db.transaction(() => {
      for (const p of packs) this.addPack(p, fromBuf, now);
      if (fromBuf) this.q.insertIndexObject.run(fromBuf, now);
    }).immediate();
    if (from) this.merged?.add(from);
  }

  private addPack(p: IndexedPack, from: Buffer | null, now: number): void {
    const pid = Buffer.from(p.packId, 'hex');
    if (!from) this.q.uploadDone.run(pid);
    const known = this.q.packSeq.get(pid);
    if (known !== undefined) {
      // Its blobs went in with it; an index object naming it now only changes its state.
      if (from) this.q.markIndexed.run(from, known);
      return;
    }
    const seq = Number(this.q.insertPack.run(pid, p.size, from, from ? null : encodeEntries(p.blobs), now).lastInsertRowid);
    for (const b of p.blobs) this.q.insertBlob.run(Buffer.from(b.id, 'hex'), seq, TYPE_CODE[b.type], b.offset, b.length, b.rawLength);
  }

  mergedIndexes(): ReadonlySet<IndexId> {
    if (!this.merged) {
      const rows = this.db.prepare<[], Buffer>('SELECT id FROM index_objects').pluck().all();
      this.merged = new Set(rows.map((b) => b.toString('hex') as IndexId));
    }
    return this.merged;
  }

  /**
   * Forgets what came from index objects. Packs in no index object are kept: they are the
   * crash-resume journal, and a concurrent backup may still be adding to it.
   */
  clear(): void {
    this.db.transaction(() => {
      const pending = this.unindexedPacks();
      this.db.exec('DELETE FROM blobs; DELETE FROM packs; DELETE FROM index_objects;');
      const now = Date.now();
      for (const p of pending) this.addPack(p, null, now);
    }).immediate();
    this.merged = new Set();
  }

  blobCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n;
  }

  // ---- PackJournal -------------------------------------------------------------------

  /** Records a pack about to be uploaded (committed before the upload starts). */
  journalUpload(p: IndexedPack): void {
    this.db
      .prepare('INSERT OR REPLACE INTO uploads (pack_id, size, entries, started) VALUES (?, ?, ?, ?)')
      .run(Buffer.from(p.packId, 'hex'), p.size, encodeEntries(p.blobs), Date.now());
  }

  startedUploads(): IndexedPack[] {
    return this.db
      .prepare<[], { pack_id: Buffer; size: number; entries: Buffer }>('SELECT pack_id, size, entries FROM uploads ORDER BY started')
      .all()
      .map((r) => ({ packId: r.pack_id.toString('hex') as PackId, size: r.size, blobs: decodeEntries(r.entries) }));
  }

  forgetUploads(ids: readonly PackId[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.q.uploadDone.run(Buffer.from(id, 'hex'));
    }).immediate();
  }

  unindexedPacks(): IndexedPack[] {
    const rows = this.db
      .prepare<[], { id: Buffer; size: number; entries: Buffer | null }>('SELECT id, size, entries FROM packs WHERE index_id IS NULL ORDER BY seq')
      .all();
    return rows.map((r) => ({ packId: r.id.toString('hex') as PackId, size: r.size, blobs: decodeEntries(r.entries ?? Buffer.alloc(0)) }));
  }

  unindexedPackCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM packs WHERE index_id IS NULL').get() as { n: number }).n;
  }

  forgetPacks(ids: readonly PackId[]): void {
    const get = this.db.prepare<[Buffer], { seq: number; entries: Buffer | null }>('SELECT seq, entries FROM packs WHERE id = ? AND index_id IS NULL');
    const delBlob = this.db.prepare('DELETE FROM blobs WHERE id = ? AND pack = ?');
    const delPack = this.db.prepare('DELETE FROM packs WHERE seq = ?');
    this.db.transaction(() => {
      for (const id of ids) {
        const row = get.get(Buffer.from(id, 'hex'));
        if (!row) continue;
        for (const e of decodeEntries(row.entries ?? Buffer.alloc(0))) delBlob.run(Buffer.from(e.id, 'hex'), row.seq);
        delPack.run(row.seq);
      }
    }).immediate();
  }

  hasPack(id: PackId): boolean {
    return this.q.packSeq.get(Buffer.from(id, 'hex')) !== undefined;
  }

  /** Every blob of one type, grouped by pack (one scan of the table: for rebuilds). */
  blobsByPack(type: BlobType): Map<PackId, IndexedBlob[]> {
    const rows = this.db
      .prepare<[number], [Buffer, Buffer, number, number, number]>(
        'SELECT p.id, b.id, b.offset, b.length, b.raw_length FROM blobs b JOIN packs p ON p.seq = b.pack WHERE b.type = ?',
      )
      .raw()
      .iterate(TYPE_CODE[type]);
    const out = new Map<PackId, IndexedBlob[]>();
    for (const [pack, id, offset, length, rawLength] of rows) {
      const packId = pack.toString('hex') as PackId;
      let list = out.get(packId);
      if (!list) out.set(packId, (list = []));
      list.push({ type, id: id.toString('hex') as BlobId, offset, length, rawLength, packId });
    }
    return out;
  }
}

function encodeEntries(entries: readonly PackEntry[]): Buffer {
  const buf = Buffer.allocUnsafe(entries.length * ENTRY);
  let at = 0;
  for (const e of entries) {
    buf[at] = TYPE_CODE[e.type];
    buf.write(e.id, at + 1, 32, 'hex');
    buf.writeUInt32LE(e.offset, at + 33);
    buf.writeUInt32LE(e.length, at + 37);
    buf.writeUInt32LE(e.rawLength, at + 41);
    at += ENTRY;
  }
  return buf;
}

function decodeEntries(buf: Buffer): PackEntry[] {
  const out: PackEntry[] = [];
  for (let at = 0; at + ENTRY <= buf.length; at += ENTRY) {
    out.push({
      type: TYPES[buf[at]!] ?? 'data',
      id: buf.toString('hex', at + 1, at + 33) as BlobId,
      offset: buf.readUInt32LE(at + 33),
      length: buf.readUInt32LE(at + 37),
      rawLength: buf.readUInt32LE(at + 41),
    });
  }
  return out;
}
