/**
 * Prune's working set, on disk: every index object's packs and entries (superseded ones
 * included), the packs actually stored, and the blobs the snapshots use. A temporary
 * SQLite file, so that memory stays flat with millions of blobs (the catalog's own blob
 * index keeps one copy of each blob and ignores superseded index objects; prune needs all).
 * Deleted when the prune ends.
 * @module
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BlobId, IndexId, PackId } from '../domain/ids.js';
import type { BlobType } from '../repository/blob-codec.js';
import type { IndexedBlob } from '../repository/blob-index.js';
import type { IndexContent, IndexedPack } from '../repository/index-file.js';

const SCHEMA = `
  CREATE TABLE idx (id BLOB PRIMARY KEY, superseded INTEGER NOT NULL DEFAULT 0, packs INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE pack_idx (pack BLOB NOT NULL, idx BLOB NOT NULL, PRIMARY KEY (pack, idx)) WITHOUT ROWID;
  CREATE INDEX pack_idx_by_idx ON pack_idx (idx, pack);
  CREATE TABLE supersedes (idx BLOB NOT NULL, target BLOB NOT NULL, PRIMARY KEY (target, idx)) WITHOUT ROWID;
  CREATE TABLE packs (id BLOB PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE stored (id BLOB PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE entries (blob BLOB NOT NULL, pack BLOB NOT NULL, type INTEGER NOT NULL, offset INTEGER NOT NULL,
                        length INTEGER NOT NULL, raw_length INTEGER NOT NULL, PRIMARY KEY (blob, pack)) WITHOUT ROWID;
  CREATE INDEX entries_by_pack ON entries (pack);
  CREATE TABLE used (blob BLOB PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE walked (tree BLOB PRIMARY KEY) WITHOUT ROWID;
  -- packs named by the prune plans still in force (their candidates are hidden from backups)
  CREATE TABLE planned (pack BLOB PRIMARY KEY) WITHOUT ROWID;
`;

const TYPE_CODE: Record<BlobType, number> = { data: 0, tree: 1 };
const TYPES: readonly BlobType[] = ['data', 'tree'];
const hex = (b: Buffer) => b.toString('hex');
const raw = (id: string) => Buffer.from(id, 'hex');

export interface PackUsage {
  readonly id: PackId;
  readonly size: number;
  readonly blobs: number;
  readonly usedBlobs: number;
  /** sealed bytes of the blobs a snapshot uses */
  readonly usedBytes: number;
  /** sealed bytes of the blobs no snapshot uses (the rest of the pack is header and padding) */
  readonly unusedBytes: number;
}

export class PruneWorkspace {
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    readonly db: Database.Database,
    private readonly dir: string,
  ) {}

  /** Prepared once per SQL text (each text is always used in one mode: plain, pluck or raw). */
  private stmt<P extends unknown[] = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st as unknown as Database.Statement<P, R>;
  }

  static open(parent = os.tmpdir()): PruneWorkspace {
    const dir = fs.mkdtempSync(path.join(parent, 'coffre-prune-'));
    const db = new Database(path.join(dir, 'prune.sqlite'));
    db.pragma('journal_mode = OFF'); // a scratch file: rebuilt from the repository on every run
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -32768');
    db.exec(SCHEMA);
    return new PruneWorkspace(db, dir);
  }

  close(): void {
    this.db.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- filling -------------------------------------------------------------------------

  addIndex(id: IndexId, content: IndexContent): void {
    const idb = raw(id);
    const insIdx = this.stmt('INSERT OR IGNORE INTO idx (id, packs) VALUES (?, ?)');
    const insSup = this.stmt('INSERT OR IGNORE INTO supersedes (idx, target) VALUES (?, ?)');
    this.db.transaction(() => {
      insIdx.run(idb, content.packs.length);
      for (const s of content.supersedes) insSup.run(idb, raw(s));
      this.addPacks(content.packs, id);
    }).immediate();
  }

  /** Packs named by index object `from` (or by none yet, for packs prune itself writes). */
  addPacks(packs: readonly IndexedPack[], from?: IndexId): void {
    const insPack = this.stmt('INSERT OR IGNORE INTO packs (id, size) VALUES (?, ?)');
    const insPackIdx = this.stmt('INSERT OR IGNORE INTO pack_idx (pack, idx) VALUES (?, ?)');
    const insEntry = this.stmt('INSERT OR IGNORE INTO entries (blob, pack, type, offset, length, raw_length) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const p of packs) {
        const pid = raw(p.packId);
        insPack.run(pid, p.size);
        if (from) insPackIdx.run(pid, raw(from));
        for (const b of p.blobs) insEntry.run(raw(b.id), pid, TYPE_CODE[b.type], b.offset, b.length, b.rawLength);
      }
    })();
  }

  /** After every index object is in: marks those some present index object supersedes. */
  markSuperseded(): void {
    this.db.exec('UPDATE idx SET superseded = 1 WHERE id IN (SELECT target FROM supersedes)');
  }

  addStored(id: PackId, size: number): void {
    this.stmt('INSERT OR IGNORE INTO stored (id, size) VALUES (?, ?)').run(raw(id), size);
  }

  storedBatch(): (id: PackId, size: number) => void {
    const ins = this.stmt('INSERT OR IGNORE INTO stored (id, size) VALUES (?, ?)');
    return (id, size) => ins.run(raw(id), size);
  }

  setPlanned(packs: Iterable<PackId>): void {
    const ins = this.stmt('INSERT OR IGNORE INTO planned (pack) VALUES (?)');
    this.db.transaction(() => {
      this.db.exec('DELETE FROM planned');
      for (const p of packs) ins.run(raw(p));
    })();
  }

  /** Runs `fn` in one transaction (many small writes: one commit). */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Marks a blob used; false if it was already (so a tree is walked once). */
  markUsed(id: BlobId): boolean {
    return this.stmt('INSERT OR IGNORE INTO used (blob) VALUES (?)').run(raw(id)).changes > 0;
  }

  /** Marks a tree walked; false if it was already (a tree id may also be used as file content). */
  markWalked(id: BlobId): boolean {
    return this.stmt('INSERT OR IGNORE INTO walked (tree) VALUES (?)').run(raw(id)).changes > 0;
  }

  hasEntry(id: BlobId): boolean {
    return this.stmt('SELECT 1 FROM entries WHERE blob = ? LIMIT 1').get(raw(id)) !== undefined;
  }

  // ---- questions -----------------------------------------------------------------------

  /** Where a blob can be read: any stored pack holding it, preferring one no index supersedes. */
  lookup(id: BlobId): IndexedBlob | undefined {
    const row = this.stmt<[Buffer], { pack: Buffer; type: number; offset: number; length: number; raw_length: number }>(
        'SELECT e.pack, e.type, e.offset, e.length, e.raw_length FROM entries e JOIN stored s ON s.id = e.pack WHERE e.blob = ? LIMIT 1',
      )
      .get(raw(id));
    if (!row) return undefined;
    return { id, packId: hex(row.pack) as PackId, type: TYPES[row.type] ?? 'data', offset: row.offset, length: row.length, rawLength: row.raw_length };
  }

  /** Every stored pack some index object names, with how much of it the snapshots use (streamed). */
  *packUsage(): Generator<PackUsage> {
    const rows = this.stmt<[], [Buffer, number, number, number, number, number]>(
        `SELECT s.id, s.size, count(*), count(u.blob), coalesce(sum(CASE WHEN u.blob IS NULL THEN 0 ELSE e.length END), 0),
                coalesce(sum(CASE WHEN u.blob IS NULL THEN e.length ELSE 0 END), 0)
           FROM stored s JOIN entries e ON e.pack = s.id LEFT JOIN used u ON u.blob = e.blob GROUP BY s.id`,
      )
      .raw()
      .iterate();
    for (const [id, size, blobs, usedBlobs, usedBytes, unusedBytes] of rows) yield { id: hex(id) as PackId, size, blobs, usedBlobs, usedBytes, unusedBytes };
  }

  /** Stored packs no index object names (left by a killed backup, or a backup still running). */
  *unindexedStored(): Generator<{ id: PackId; size: number }> {
    const rows = this.stmt<[], [Buffer, number]>('SELECT s.id, s.size FROM stored s WHERE NOT EXISTS (SELECT 1 FROM pack_idx p WHERE p.pack = s.id)').raw().iterate();
    for (const [id, size] of rows) yield { id: hex(id) as PackId, size };
  }

  isStored(id: PackId): boolean {
    return this.stmt('SELECT 1 FROM stored WHERE id = ?').get(raw(id)) !== undefined;
  }

  storedSize(id: PackId): number | undefined {
    return this.stmt<[Buffer], number>('SELECT size FROM stored WHERE id = ?').pluck().get(raw(id));
  }

  isPlanned(id: PackId): boolean {
    return this.stmt('SELECT 1 FROM planned WHERE pack = ?').get(raw(id)) !== undefined;
  }

  /** Every index object naming the pack, superseded or not. */
  indexesNaming(id: PackId): IndexId[] {
    return this.stmt<[Buffer], Buffer>('SELECT idx FROM pack_idx WHERE pack = ?').pluck().all(raw(id)).map((b) => hex(b) as IndexId);
  }

  forgetStored(id: PackId): void {
    this.stmt('DELETE FROM stored WHERE id = ?').run(raw(id));
  }

  /** Whether a pack is named by an index object no other supersedes (so backups see it). */
  isVisible(id: PackId): boolean {
    return (
      this.stmt('SELECT 1 FROM pack_idx p JOIN idx i ON i.id = p.idx WHERE p.pack = ? AND i.superseded = 0 LIMIT 1').get(raw(id)) !== undefined
    );
  }

  /**
   * Whether a pack holds a used blob that no other stored, visible pack outside the plans
   * holds: deleting it would then lose data a snapshot needs.
   */
  holdsNeededBlob(id: PackId): boolean {
    return (
      this.stmt(
          `SELECT 1 FROM entries e JOIN used u ON u.blob = e.blob WHERE e.pack = ? AND NOT EXISTS (
             SELECT 1 FROM entries o JOIN stored s ON s.id = o.pack
              WHERE o.blob = e.blob AND o.pack != e.pack
                AND NOT EXISTS (SELECT 1 FROM planned pl WHERE pl.pack = o.pack)
                AND EXISTS (SELECT 1 FROM pack_idx p JOIN idx i ON i.id = p.idx WHERE p.pack = o.pack AND i.superseded = 0)
           ) LIMIT 1`,
        )
        .get(raw(id)) !== undefined
    );
  }

  /** The blobs of a pack, as its index objects record them. */
  entriesOf(id: PackId): IndexedBlob[] {
    return this.stmt<[Buffer], { blob: Buffer; type: number; offset: number; length: number; raw_length: number }>(
        'SELECT blob, type, offset, length, raw_length FROM entries WHERE pack = ? ORDER BY offset',
      )
      .all(raw(id))
      .map((r) => ({ id: hex(r.blob) as BlobId, packId: id, type: TYPES[r.type] ?? 'data', offset: r.offset, length: r.length, rawLength: r.raw_length }));
  }

  usedEntriesOf(id: PackId): IndexedBlob[] {
    return this.entriesOf(id).filter((b) => this.stmt('SELECT 1 FROM used WHERE blob = ?').get(raw(b.id)) !== undefined);
  }

  packSize(id: PackId): number | undefined {
    return this.stmt<[Buffer], number>('SELECT size FROM packs WHERE id = ?').pluck().get(raw(id));
  }

  /** Visible index objects naming one of the given packs (they must be superseded before those packs go). */
  visibleIndexesNaming(packs: Iterable<PackId>): IndexId[] {
    const q = this.stmt<[Buffer], Buffer>('SELECT p.idx FROM pack_idx p JOIN idx i ON i.id = p.idx WHERE p.pack = ? AND i.superseded = 0').pluck();
    const out = new Set<IndexId>();
    for (const p of packs) for (const i of q.all(raw(p))) out.add(hex(i) as IndexId);
    return [...out];
  }

  packsOf(idx: IndexId): PackId[] {
    return this.stmt<[Buffer], Buffer>('SELECT pack FROM pack_idx WHERE idx = ?').pluck().all(raw(idx)).map((b) => hex(b) as PackId);
  }

  indexExists(idx: IndexId): boolean {
    return this.stmt('SELECT 1 FROM idx WHERE id = ?').get(raw(idx)) !== undefined;
  }

  /** Other index objects (not `idx`, not in `leaving`) that name the pack and that no object supersedes. */
  namedElsewhere(pack: PackId, idx: IndexId, leaving: ReadonlySet<IndexId>): boolean {
    const rows = this.stmt<[Buffer, Buffer], Buffer>('SELECT p.idx FROM pack_idx p JOIN idx i ON i.id = p.idx WHERE p.pack = ? AND p.idx != ? AND i.superseded = 0')
      .pluck()
      .all(raw(pack), raw(idx));
    return rows.some((r) => !leaving.has(hex(r) as IndexId));
  }

  /** Index objects some other supersedes that no prune plan lists yet (left by a run killed midway). */
  supersededIndexes(): IndexId[] {
    return this.stmt<[], Buffer>('SELECT id FROM idx WHERE superseded = 1').pluck().all().map((b) => hex(b) as IndexId);
  }

  /** Supersede-only index objects (no packs) whose targets are all gone: they can go too. */
  spentSupersedingIndexes(): IndexId[] {
    return this.stmt<[], Buffer>(
        `SELECT i.id FROM idx i WHERE i.packs = 0 AND i.superseded = 0 AND EXISTS (SELECT 1 FROM supersedes s WHERE s.idx = i.id)
           AND NOT EXISTS (SELECT 1 FROM supersedes s JOIN idx t ON t.id = s.target WHERE s.idx = i.id)`,
      )
      .pluck()
      .all()
      .map((b) => hex(b) as IndexId);
  }

  /** Stored packs named only by superseded index objects and by no prune plan: hidden by mistake (a run killed midway, or needed again). */
  hiddenUnplanned(): PackId[] {
    return this.stmt<[], Buffer>(
        `SELECT s.id FROM stored s WHERE EXISTS (SELECT 1 FROM pack_idx p WHERE p.pack = s.id)
           AND NOT EXISTS (SELECT 1 FROM pack_idx p JOIN idx i ON i.id = p.idx WHERE p.pack = s.id AND i.superseded = 0)
           AND NOT EXISTS (SELECT 1 FROM planned pl WHERE pl.pack = s.id)`,
      )
      .pluck()
      .all()
      .map((b) => hex(b) as PackId);
  }

  removeIndex(idx: IndexId): void {
    const b = raw(idx);
    this.db.transaction(() => {
      this.stmt('DELETE FROM pack_idx WHERE idx = ?').run(b);
      this.stmt('DELETE FROM supersedes WHERE idx = ?').run(b);
      this.stmt('DELETE FROM idx WHERE id = ?').run(b);
    })();
  }

  counts(): { snapshotsBlobsUsed: number; storedPacks: number; storedBytes: number } {
    const used = this.stmt<[], number>('SELECT count(*) FROM used').pluck().get() ?? 0;
    const s = this.stmt<[], { n: number; b: number | null }>('SELECT count(*) AS n, sum(size) AS b FROM stored').get()!;
    return { snapshotsBlobsUsed: used, storedPacks: s.n, storedBytes: s.b ?? 0 };
  }
}
