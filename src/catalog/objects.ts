/**
 * Decoded immutable objects, kept by name: snapshot objects by snapshot id, tree blobs by
 * blob id. Both are named by a hash of their content, so an entry can never be stale; what
 * can change is which snapshots exist, and that is always learnt by listing `snapshots/`
 * (`retainSnapshots`). The repository's ObjectCache port: plaintext in, plaintext out —
 * the repository decodes (and validates) what it gets back.
 *
 * Trees are stored zstd-compressed (JSON of a 100-file directory: 20 KiB, about 4 KiB
 * compressed): a catalog holding every tree of a year of snapshots stays smaller than the
 * repository. A stored tree is a zstd frame (magic 28 B5 2F FD) or the JSON itself.
 * @module
 */
import { compressIfWorthIt, decompress, FLAG_ZSTD } from '../compress/zstd.js';
import type { BlobId, SnapshotId } from '../domain/ids.js';
import type { ObjectCache } from '../repository/object-cache.js';
import type { Db } from './catalog.js';

type Stmt<P extends unknown[] = unknown[], R = unknown> = import('better-sqlite3').Statement<P, R>;

export interface CachedSnapshotRow {
  readonly id: SnapshotId;
  readonly time: string;
  readonly host: string;
}

export class SqliteObjectCache implements ObjectCache {
  private readonly q: {
    snapshot: Stmt<[Buffer], string>;
    putSnapshot: Stmt<[Buffer, string, string, string]>;
    tree: Stmt<[Buffer], Buffer>;
    putTree: Stmt<[Buffer, Buffer]>;
  };

  constructor(private readonly db: Db) {
    this.q = {
      snapshot: db.prepare<[Buffer], string>('SELECT json FROM snapshots WHERE id = ?').pluck(),
      putSnapshot: db.prepare('INSERT OR IGNORE INTO snapshots (id, time, host, json) VALUES (?, ?, ?, ?)'),
      tree: db.prepare<[Buffer], Buffer>('SELECT json FROM trees WHERE id = ?').pluck(),
      putTree: db.prepare('INSERT OR IGNORE INTO trees (id, json) VALUES (?, ?)'),
    };
  }

  snapshot(id: SnapshotId): Uint8Array | undefined {
    const json = this.q.snapshot.get(Buffer.from(id, 'hex'));
    return json === undefined ? undefined : Buffer.from(json, 'utf8');
  }

  putSnapshot(id: SnapshotId, plaintext: Uint8Array): void {
    const json = Buffer.from(plaintext).toString('utf8');
    let time = '';
    let host = '';
    try {
      const s = JSON.parse(json) as { time?: unknown; host?: unknown };
      if (typeof s.time === 'string') time = s.time;
      if (typeof s.host === 'string') host = s.host;
    } catch {
      return; // not JSON: the repository would have refused it; never cache it
    }
    this.q.putSnapshot.run(Buffer.from(id, 'hex'), time, host, json);
  }

  tree(id: BlobId): Uint8Array | undefined {
    const stored = this.q.tree.get(Buffer.from(id, 'hex'));
    return stored && isZstdFrame(stored) ? decompress(stored) : stored;
  }

  hasTree(id: BlobId): boolean {
    return this.q.tree.get(Buffer.from(id, 'hex')) !== undefined;
  }

  putTree(id: BlobId, plaintext: Uint8Array): void {
    const c = compressIfWorthIt(plaintext, 3);
    this.q.putTree.run(Buffer.from(id, 'hex'), Buffer.from(c.flag === FLAG_ZSTD ? c.bytes : plaintext));
  }

  /** Snapshots cached, newest last. */
  cachedSnapshots(): CachedSnapshotRow[] {
    return this.db
      .prepare<[], { id: Buffer; time: string; host: string }>('SELECT id, time, host FROM snapshots ORDER BY time, id')
      .all()
      .map((r) => ({ id: r.id.toString('hex') as SnapshotId, time: r.time, host: r.host }));
  }

  /** Forgets snapshots that are no longer in the repository (the listing is the truth). */
  retainSnapshots(present: readonly SnapshotId[]): number {
    const keep = new Set(present);
    const gone = this.cachedSnapshots().filter((s) => !keep.has(s.id));
    if (gone.length === 0) return 0;
    const del = this.db.prepare('DELETE FROM snapshots WHERE id = ?');
    this.db.transaction(() => {
      for (const s of gone) del.run(Buffer.from(s.id, 'hex'));
    }).immediate();
    return gone.length;
  }

  /** Forgets every snapshot and tree (a rebuild starts from nothing). */
  clear(): void {
    this.db.exec('DELETE FROM snapshots; DELETE FROM trees;');
  }
}

function isZstdFrame(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}
