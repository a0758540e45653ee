/**
 * Packs: many sealed blobs in one storage object, so the provider sees neither how many
 * blobs there are nor how large each is (DESIGN invariant 9).
 *
 *   sealed blob 1 ‖ … ‖ sealed blob n ‖ zero padding ‖ header envelope ‖ u32 LE header length
 *
 * The header (sealed like any envelope, type "pack-header") lists, per blob: type, id,
 * offset, sealed length and plaintext length. Its plaintext is padded to a multiple of
 * 4 KiB so its size barely depends on the blob count, and the whole pack is padded to a
 * Padmé length (at most about 12 % overhead, usually 3 % or less for full packs) so
 * that even a pack holding a single small file does not reveal that file's exact size.
 * A pack's id is the SHA-256 of its bytes.
 * @module
 */
import { createHash } from 'node:crypto';
import { IntegrityError } from '../domain/errors.js';
import { idFromBytes, idToBytes, type BlobId, type PackId } from '../domain/ids.js';
import { blobTypeOfCode, BLOB_TYPE_CODE, type BlobType } from './blob-codec.js';
import { envelopeLength, openEnvelope, sealEnvelope, type SealingKey } from './envelope.js';

export interface PackEntry {
  readonly type: BlobType;
  readonly id: BlobId;
  readonly offset: number;
  /** sealed length in the pack */
  readonly length: number;
  /** plaintext length */
  readonly rawLength: number;
}

const HEADER_VERSION = 1;
/** type u8 ‖ id 32 B ‖ offset u32 ‖ length u32 ‖ rawLength u32, all little-endian; shared with index objects. */
export const ENTRY_BYTES = 1 + 32 + 4 + 4 + 4;

export function writeEntry(buf: Buffer, at: number, e: PackEntry): number {
  buf[at] = BLOB_TYPE_CODE[e.type];
  idToBytes(e.id).copy(buf, at + 1);
  buf.writeUInt32LE(e.offset, at + 33);
  buf.writeUInt32LE(e.length, at + 37);
  buf.writeUInt32LE(e.rawLength, at + 41);
  return at + ENTRY_BYTES;
}

/** Reads one entry; `bad` builds the error for an unknown blob type. */
export function readEntry(buf: Buffer, at: number, bad: (why: string) => Error): PackEntry {
  const type = blobTypeOfCode(buf[at]!);
  if (!type) throw bad(`blob type ${buf[at]}`);
  return {
    type,
    id: idFromBytes<BlobId>(buf.subarray(at + 1, at + 33)),
    offset: buf.readUInt32LE(at + 33),
    length: buf.readUInt32LE(at + 37),
    rawLength: buf.readUInt32LE(at + 41),
  };
}
const HEADER_ALIGN = 4096;
const TRAILER_BYTES = 4;

/** Padmé: rounds L up so that only O(log log L) bits of it remain observable. */
export function padme(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const step = 2 ** (e - s);
  return Math.ceil(length / step) * step;
}

/**
 * When a pack being filled is closed. Past `packSize` (each blob counting at least
 * MIN_BYTES_PER_BLOB, see below), a pack is closed as soon as its Padmé padding would cost
 * at most 1/256 of its length, and at the latest at 1.5 × `packSize`. Closing at the first
 * blob past `packSize` instead wasted half a Padmé step on average (256 KiB of a 16 MiB
 * pack, 1.5 % of the repository); waiting for a blob that ends near a step costs nothing
 * in privacy, since what the provider sees is still only Padmé lengths.
 *
 * Each blob counts at least MIN_BYTES_PER_BLOB: a pack of tiny blobs (a tree of 200,000
 * small files) is then closed at about 16,000 blobs instead of 100,000 or more, because
 * what a pack costs until it is stored (its entries, its ids pending) grows with the count.
 */
export function packIsFull(blobBytes: number, count: number, packSize: number, sealing: Uint8Array | SealingKey): boolean {
  const weight = Math.max(blobBytes, count * MIN_BYTES_PER_BLOB);
  if (weight < packSize) return false;
  if (weight >= packSize * 1.5) return true;
  const unpadded = packLength(blobBytes, count, sealing);
  return padme(unpadded) - unpadded <= unpadded >> 8;
}
const MIN_BYTES_PER_BLOB = 1024;

/** The unpadded length of a pack: blobs, sealed header, trailer. */
function packLength(blobBytes: number, count: number, sealing: Uint8Array | SealingKey): number {
  return blobBytes + envelopeLength(headerPlainLength(count), sealing) + TRAILER_BYTES;
}

/**
 * What follows the blobs of a pack: zero padding, the sealed header, the trailer. The header
 * is sealed with the key its blobs were sealed with (data key, or a write-only session's).
 */
export function packTail(entries: readonly PackEntry[], blobBytes: number, sealing: Uint8Array | SealingKey): Buffer[] {
  const header = sealEnvelope('pack-header', encodeHeader(entries), sealing, { level: 0 });
  const unpadded = blobBytes + header.length + TRAILER_BYTES;
  const padding = padme(unpadded) - unpadded;
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(header.length, 0);
  return [Buffer.alloc(padding), header, trailer];
}

/** A pack built in memory (tree blobs, small blobs sealed on the main thread, repack). */
export class PackBuilder {
  private readonly parts: Buffer[] = [];
  private readonly entries: PackEntry[] = [];
  private bytes = 0;

  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.length;
  }

  add(type: BlobType, id: BlobId, sealed: Buffer, rawLength: number): void {
    this.entries.push({ type, id, offset: this.bytes, length: sealed.length, rawLength });
    this.parts.push(sealed);
    this.bytes += sealed.length;
  }

  finish(sealing: Uint8Array | SealingKey): { id: PackId; bytes: Buffer; entries: PackEntry[] } {
    const bytes = Buffer.concat([...this.parts, ...packTail(this.entries, this.bytes, sealing)]);
    const id = idFromBytes<PackId>(createHash('sha256').update(bytes).digest());
    return { id, bytes, entries: this.entries };
  }
}

function headerPlainLength(count: number): number {
  return Math.ceil((1 + 4 + count * ENTRY_BYTES) / HEADER_ALIGN) * HEADER_ALIGN;
}

function encodeHeader(entries: readonly PackEntry[]): Buffer {
  const buf = Buffer.alloc(headerPlainLength(entries.length));
  buf[0] = HEADER_VERSION;
  buf.writeUInt32LE(entries.length, 1);
  let at = 5;
  for (const e of entries) at = writeEntry(buf, at, e);
  return buf;
}

/** Length of the sealed header, read from the pack's last 4 bytes. */
export function headerLengthFromTrailer(trailer: Uint8Array, packSize: number, objectKey: string): number {
  if (trailer.length < TRAILER_BYTES || packSize < TRAILER_BYTES) throw new IntegrityError(objectKey, `${objectKey}: truncated pack`);
  const len = Buffer.from(trailer.buffer, trailer.byteOffset + trailer.length - 4, 4).readUInt32LE(0);
  if (len + TRAILER_BYTES > packSize) throw new IntegrityError(objectKey, `${objectKey}: pack header length ${len} exceeds the pack`);
  return len;
}

export const PACK_TRAILER_BYTES = TRAILER_BYTES;

/** Decrypts and parses a pack header; checks every entry lies inside the blob area. */
export function decodePackHeader(sealedHeader: Uint8Array, packSize: number, key: Uint8Array, objectKey: string): PackEntry[] {
  const plain = openEnvelope('pack-header', sealedHeader, key, objectKey);
  const bad = (why: string) => new IntegrityError(objectKey, `${objectKey}: bad pack header: ${why}`);
  if (plain[0] !== HEADER_VERSION || plain.length < 5) throw bad('version');
  const count = plain.readUInt32LE(1);
  if (5 + count * ENTRY_BYTES > plain.length) throw bad('entry count');
  const blobArea = packSize - sealedHeader.length - TRAILER_BYTES;
  const entries: PackEntry[] = [];
  let at = 5;
  for (let i = 0; i < count; i++, at += ENTRY_BYTES) {
    const e = readEntry(plain, at, bad);
    if (e.offset + e.length > blobArea) throw bad(`blob ${e.id.slice(0, 8)} lies outside the pack`);
    entries.push(e);
  }
  return entries;
}
