/**
 * Index objects: which pack holds each blob, where, and how long it is — the pack headers
 * of many packs gathered in one sealed object, so readers need not fetch every pack
 * header (docs/FORMAT.md, "Index objects"). Each backup writes index objects only for the
 * packs it uploaded, after those packs are stored. `supersedes` lets a later compaction
 * replace several index objects by one (the old ones are then deleted by prune only).
 * @module
 */
import { IntegrityError } from '../domain/errors.js';
import { idFromBytes, idToBytes, type IndexId, type PackId } from '../domain/ids.js';
import { ENTRY_BYTES, readEntry, writeEntry, type PackEntry } from './pack.js';

export interface IndexedPack {
  readonly packId: PackId;
  readonly size: number;
  readonly blobs: readonly PackEntry[];
}

export interface IndexContent {
  readonly supersedes: readonly IndexId[];
  readonly packs: readonly IndexedPack[];
}

const VERSION = 1;

export function encodeIndex(c: IndexContent): Buffer {
  let size = 1 + 4 + c.supersedes.length * 32 + 4;
  for (const p of c.packs) size += 32 + 4 + 4 + p.blobs.length * ENTRY_BYTES;
  const buf = Buffer.alloc(size);
  let at = 0;
  buf[at++] = VERSION;
  at = buf.writeUInt32LE(c.supersedes.length, at);
  for (const id of c.supersedes) at += idToBytes(id).copy(buf, at);
  at = buf.writeUInt32LE(c.packs.length, at);
  for (const p of c.packs) {
    at += idToBytes(p.packId).copy(buf, at);
    at = buf.writeUInt32LE(p.size, at);
    at = buf.writeUInt32LE(p.blobs.length, at);
    for (const b of p.blobs) at = writeEntry(buf, at, b);
  }
  return buf;
}

export function decodeIndex(buf: Buffer, objectKey: string): IndexContent {
  const bad = (why: string) => new IntegrityError(objectKey, `${objectKey}: bad index object: ${why}`);
  let at = 0;
  const need = (n: number) => {
    if (at + n > buf.length) throw bad('truncated');
  };
  need(5);
  if (buf[at++] !== VERSION) throw bad(`version ${buf[0]}`);
  const nSup = buf.readUInt32LE(at);
  at += 4;
  need(nSup * 32 + 4);
  const supersedes: IndexId[] = [];
  for (let i = 0; i < nSup; i++, at += 32) supersedes.push(idFromBytes<IndexId>(buf.subarray(at, at + 32)));
  const nPacks = buf.readUInt32LE(at);
  at += 4;
  const packs: IndexedPack[] = [];
  for (let p = 0; p < nPacks; p++) {
    need(40);
    const packId = idFromBytes<PackId>(buf.subarray(at, at + 32));
    const size = buf.readUInt32LE(at + 32);
    const n = buf.readUInt32LE(at + 36);
    at += 40;
    need(n * ENTRY_BYTES);
    const blobs: PackEntry[] = [];
    for (let i = 0; i < n; i++, at += ENTRY_BYTES) blobs.push(readEntry(buf, at, bad));
    packs.push({ packId, size, blobs });
  }
  if (at !== buf.length) throw bad('trailing bytes');
  return { supersedes, packs };
}
