/**
 * One blob, sealed: nonce ‖ XChaCha20-Poly1305(dataKey, flag ‖ payload) ‖ tag, where flag is
 * the compression byte (docs/FORMAT.md, "Blobs"). The associated data binds the format
 * version, the blob type and the blob id, so a blob cannot be moved to another id or type.
 * On reading, the plaintext is also checked against its id (HMAC under the id key).
 * Pure functions over bytes: they run in worker threads as well as on the main thread.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { IntegrityError } from '../domain/errors.js';
import { idToBytes, type BlobId } from '../domain/ids.js';
import { AuthenticationError, NONCE_BYTES, openInPlace, openInto, sealInPlace, SEAL_OVERHEAD, TAG_BYTES } from '../crypto/aead.js';
import { keyedId } from '../crypto/blob-id.js';
import { compressBound, compressInto, CorruptPayload, FLAG_NONE, FLAG_ZSTD, unflagged } from '../compress/zstd.js';

export type BlobType = 'data' | 'tree';
export const BLOB_TYPE_CODE: Record<BlobType, number> = { data: 0, tree: 1 };

export function blobTypeOfCode(code: number): BlobType | undefined {
  return code === 0 ? 'data' : code === 1 ? 'tree' : undefined;
}

const AAD_PREFIX = Buffer.from('coffre/v1/blob\0', 'latin1');

export function blobAad(type: BlobType, id: BlobId): Buffer {
  const aad = Buffer.allocUnsafe(AAD_PREFIX.length + 1 + 32);
  AAD_PREFIX.copy(aad, 0);
  aad[AAD_PREFIX.length] = BLOB_TYPE_CODE[type];
  idToBytes(id).copy(aad, AAD_PREFIX.length + 1);
  return aad;
}

/** Seals one blob into a buffer of its own (it may be moved to another thread). */
export function encodeBlob(type: BlobType, id: BlobId, raw: Uint8Array, dataKey: Uint8Array, level: number): Buffer {
  const sealed = (threadScratch ??= new SealScratch()).encode(type, id, raw, dataKey, level);
  const out = Buffer.allocUnsafeSlow(sealed.length);
  sealed.copy(out);
  return out;
}
let threadScratch: SealScratch | undefined;

/** Seal scratch grows by whole MiB: chunk sizes vary by a few KiB, and each new largest chunk would leave the old buffer as garbage. */
const SCRATCH_STEP = 1024 * 1024;

/**
 * Scratch memory for sealing one blob after another without allocating: a thread that writes
 * sealed blobs straight to a pack file (a worker's PackSpool) needs each one only until it is
 * written. Allocating two fresh buffers per chunk instead cost page faults and garbage that the
 * process's memory grew with.
 */
export class SealScratch {
  /** nonce ‖ flag ‖ payload ‖ tag: compressed (or copied) in place, then sealed in place */
  private buf = Buffer.alloc(0);

  /** Like encodeBlob; the result is a view of this scratch, valid until the next call. */
  encode(type: BlobType, id: BlobId, raw: Uint8Array, dataKey: Uint8Array, level: number): Buffer {
    const room = NONCE_BYTES + 1 + Math.max(raw.length, level > 0 ? compressBound(raw.length) : 0) + TAG_BYTES;
    if (this.buf.length < room) this.buf = Buffer.allocUnsafeSlow(Math.ceil(room / SCRATCH_STEP) * SCRATCH_STEP);
    // zstd writes straight after the flag byte; raw bytes are copied there only when stored as they are.
    const payload = this.buf.subarray(NONCE_BYTES + 1, room - TAG_BYTES);
    const compressed = level > 0 ? compressInto(payload, raw, level) : -1;
    if (compressed < 0) payload.set(raw);
    this.buf[NONCE_BYTES] = compressed < 0 ? FLAG_NONE : FLAG_ZSTD;
    return sealInPlace(this.buf, 1 + (compressed < 0 ? raw.length : compressed), dataKey, blobAad(type, id));
  }
}

export interface BlobKeys {
  readonly dataKey: Uint8Array;
  readonly idKey: Uint8Array;
}

/**
 * The keys a pack's blobs open with: `keys` themselves, or with `packKey` in place of the
 * data key when the pack was sealed with another (a write-only session's, FORMAT §10).
 */
export function withPackKey(keys: BlobKeys, packKey: Uint8Array | undefined): BlobKeys {
  return packKey ? { ...keys, dataKey: Buffer.from(packKey) } : keys;
}

/**
 * Authenticates, decompresses and checks a sealed blob; `where` names the pack in errors.
 * `decodeBlobInto` with memory of its own: the result is the caller's to keep.
 */
export function decodeBlob(sealed: Uint8Array, type: BlobType, id: BlobId, rawLength: number, keys: BlobKeys, where: string): Buffer {
  return decodeBlobInto(sealed, type, id, rawLength, keys, where, new DecodeScratch(1));
}

/**
 * Reusable memory for `decodeBlobInto`: one buffer for the decrypted bytes, one for the
 * decompressed ones, grown on demand to the largest blob seen.
 */
export class DecodeScratch {
  private plain = Buffer.alloc(0);
  private raw = Buffer.alloc(0);

  /**
   * `step`: sizes are rounded up to a multiple of it, so that blobs of similar sizes (chunks
   * are 0.5-8 MiB) rarely need a new buffer; 1 for a scratch used once (exact sizes).
   */
  constructor(private readonly step = 256 * 1024) {}

  forPlain(n: number): Buffer {
    if (this.plain.length < n) this.plain = Buffer.allocUnsafe(this.grown(n));
    return this.plain;
  }

  forRaw(n: number): Buffer {
    if (this.raw.length < n) this.raw = Buffer.allocUnsafe(this.grown(n));
    return this.raw;
  }

  private grown(need: number): number {
    return Math.ceil(need / this.step) * this.step;
  }
}

/**
 * `decodeBlob` without allocating: the plaintext returned is a view of `scratch`, valid
 * until its next use. The same checks in the same order: authenticated, decompressed into
 * exactly `rawLength` bytes at most, then checked against its id.
 *
 * `inPlace`: `sealed` is the caller's to overwrite (a fetched range read once), so it is
 * decrypted where it lies; a blob stored uncompressed is then returned as a view of it, and
 * only compressed blobs use the scratch.
 */
export function decodeBlobInto(
  sealed: Uint8Array,
  type: BlobType,
  id: BlobId,
  rawLength: number,
  keys: BlobKeys,
  where: string,
  scratch: DecodeScratch,
  opts: { inPlace?: boolean } = {},
): Buffer {
  let plain: Buffer;
  try {
    const aad = blobAad(type, id);
    plain = opts.inPlace
      ? openInPlace(keys.dataKey, sealed, aad)
      : openInto(keys.dataKey, sealed, aad, scratch.forPlain(Math.max(0, sealed.length - SEAL_OVERHEAD)));
  } catch (e) {
    if (e instanceof AuthenticationError) throw new IntegrityError(where, `${where}: blob ${id.slice(0, 8)} failed authentication`);
    throw e;
  }
  let raw: Buffer;
  try {
    raw = unflagged(plain, () => scratch.forRaw(rawLength).subarray(0, rawLength));
  } catch (e) {
    if (e instanceof CorruptPayload) throw new IntegrityError(where, `${where}: ${e.message}`);
    throw e;
  }
  if (raw.length !== rawLength) throw new IntegrityError(where, `${where}: decoded ${raw.length} bytes, expected ${rawLength}`);
  if (!timingSafeEqual(keyedId(keys.idKey, raw), idToBytes(id))) {
    throw new IntegrityError(where, `${where}: blob ${id.slice(0, 8)} does not match its id`);
  }
  return raw;
}
