/**
 * Branded identifiers. Every id in a repository is 32 bytes written as 64 lower-case hex
 * characters; the brand keeps a pack id from being passed where a blob id is expected.
 * Values are created only by the functions that compute them (crypto, repository) or by
 * the parsers below, which validate.
 * @module
 */
import { UsageError } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Keyed hash (HMAC-SHA-256 under the id key) of a blob's plaintext. */
export type BlobId = Brand<string, 'BlobId'>;
/** SHA-256 of a pack object's bytes: its storage name. */
export type PackId = Brand<string, 'PackId'>;
/** SHA-256 of an index object's bytes. */
export type IndexId = Brand<string, 'IndexId'>;
/** SHA-256 of a snapshot object's bytes. */
export type SnapshotId = Brand<string, 'SnapshotId'>;
/** SHA-256 of a key file's bytes. */
export type KeyId = Brand<string, 'KeyId'>;

export type AnyId = BlobId | PackId | IndexId | SnapshotId | KeyId;

export const ID_BYTES = 32;
const HEX_ID = /^[0-9a-f]{64}$/;

export function isHexId(s: string): boolean {
  return HEX_ID.test(s);
}

function parseId<T extends AnyId>(kind: string, s: string): T {
  if (!HEX_ID.test(s)) throw new UsageError(`invalid ${kind} id: ${JSON.stringify(s.slice(0, 80))}`);
  return s as T;
}

export const parseBlobId = (s: string): BlobId => parseId<BlobId>('blob', s);
export const parsePackId = (s: string): PackId => parseId<PackId>('pack', s);
export const parseIndexId = (s: string): IndexId => parseId<IndexId>('index', s);
export const parseSnapshotId = (s: string): SnapshotId => parseId<SnapshotId>('snapshot', s);
export const parseKeyId = (s: string): KeyId => parseId<KeyId>('key', s);

/** Converts 32 raw bytes to the hex form of an id; the caller names the brand. */
export function idFromBytes<T extends AnyId>(bytes: Uint8Array): T {
  if (bytes.length !== ID_BYTES) throw new RangeError(`id must be ${ID_BYTES} bytes, got ${bytes.length}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') as T;
}

export function idToBytes(id: AnyId): Buffer {
  return Buffer.from(id, 'hex');
}

/** The short form shown to humans (like git and restic): the first 8 hex characters. */
export function shortId(id: AnyId): string {
  return id.slice(0, 8);
}
