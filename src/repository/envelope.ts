/**
 * The envelope that seals every whole object (config, index, snapshot) and every pack
 * header: a 2-byte clear header, then nonce ‖ ciphertext ‖ tag. The clear header and the
 * object's type are the associated data, so an index can never be passed off as a
 * snapshot, nor a v1 object as anything else.
 *
 *   byte 0   format version (1)
 *   byte 1   key kind: 0 = repository data key; 1 = write-only session key, followed by
 *            the 32-byte session id (docs/FORMAT.md §10): the key is `sessions/<id>`,
 *            sealed to the repository's session public key.
 *
 * The sealed plaintext starts with one compression byte (0 none, 1 zstd) and the payload.
 * @module
 */
import { FormatError, IntegrityError } from '../domain/errors.js';
import { AuthenticationError, open, seal, SEAL_OVERHEAD } from '../crypto/aead.js';
import { compressIfWorthIt, CorruptPayload, unflagged, type Compression } from '../compress/zstd.js';

export const FORMAT_VERSION = 1;
export const KEY_KIND_REPOSITORY = 0;
export const KEY_KIND_SESSION = 1;

export type EnvelopeType = 'config' | 'index' | 'snapshot' | 'pack-header' | 'prune-plan';

const HEADER_BYTES = 2;
export const SESSION_ID_BYTES = 32;

/** What seals a new object: the data key, or a write-only session's key and id. */
export interface SealingKey {
  readonly key: Uint8Array;
  /** set for a write-only session (key kind 1) */
  readonly sessionId?: Buffer;
}

/**
 * The session an envelope was sealed under (key kind 1), or undefined for the data key.
 * Read before opening, so the caller can fetch the session key.
 */
export function envelopeSession(bytes: Uint8Array, objectKey: string): Buffer | undefined {
  if (bytes.length < HEADER_BYTES || bytes[1] !== KEY_KIND_SESSION) return undefined;
  if (bytes.length < HEADER_BYTES + SESSION_ID_BYTES) throw new IntegrityError(objectKey, `${objectKey}: truncated (${bytes.length} bytes)`);
  return Buffer.from(bytes.subarray(HEADER_BYTES, HEADER_BYTES + SESSION_ID_BYTES));
}

export function envelopeAad(type: EnvelopeType, header: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`coffre/v1/${type}\0`, 'latin1'), header]);
}

export function sealEnvelope(type: EnvelopeType, payload: Uint8Array, sealing: Uint8Array | SealingKey, compression: Compression): Buffer {
  const { key, sessionId } = sealing instanceof Uint8Array ? { key: sealing, sessionId: undefined } : sealing;
  const header = sessionId
    ? Buffer.concat([Buffer.from([FORMAT_VERSION, KEY_KIND_SESSION]), sessionId])
    : Buffer.from([FORMAT_VERSION, KEY_KIND_REPOSITORY]);
  const body = compression.level > 0 ? compressIfWorthIt(payload, compression.level) : { flag: 0, bytes: payload };
  const plain = Buffer.concat([Buffer.from([body.flag]), body.bytes]);
  const sealed = seal(key, plain, envelopeAad(type, header), header.length);
  header.copy(sealed, 0);
  return sealed;
}

/** The length of an uncompressed envelope around `payloadLength` bytes (sealEnvelope with level 0). */
export function envelopeLength(payloadLength: number, sealing: Uint8Array | SealingKey): number {
  const session = !(sealing instanceof Uint8Array) && sealing.sessionId !== undefined;
  return HEADER_BYTES + (session ? SESSION_ID_BYTES : 0) + SEAL_OVERHEAD + 1 + payloadLength;
}

/**
 * Opens an envelope; `objectKey` names the object in errors. `key` is the data key, or the
 * session key for a key-kind-1 envelope (see `envelopeSession`).
 */
export function openEnvelope(type: EnvelopeType, bytes: Uint8Array, key: Uint8Array, objectKey: string): Buffer {
  if (bytes.length < HEADER_BYTES) throw new IntegrityError(objectKey, `${objectKey}: truncated (${bytes.length} bytes)`);
  const version = bytes[0];
  const keyKind = bytes[1];
  if (version !== FORMAT_VERSION) {
    throw new FormatError(`${objectKey}: format version ${version} is not supported by this version of coffre (supports ${FORMAT_VERSION})`);
  }
  if (keyKind !== KEY_KIND_REPOSITORY && keyKind !== KEY_KIND_SESSION) throw new IntegrityError(objectKey, `${objectKey}: unknown key kind ${keyKind}`);
  const headerBytes = keyKind === KEY_KIND_SESSION ? HEADER_BYTES + SESSION_ID_BYTES : HEADER_BYTES;
  if (bytes.length < headerBytes) throw new IntegrityError(objectKey, `${objectKey}: truncated (${bytes.length} bytes)`);
  const header = bytes.subarray(0, headerBytes);
  let plain: Buffer;
  try {
    plain = open(key, bytes.subarray(headerBytes), envelopeAad(type, header));
  } catch (e) {
    if (e instanceof AuthenticationError) {
      throw new IntegrityError(objectKey, `${objectKey}: authentication failed (object damaged or not a ${type})`);
    }
    throw e;
  }
  return unwrapCompression(plain, objectKey);
}

/** Removes the leading compression byte of a sealed plaintext, decompressing if needed. */
function unwrapCompression(plain: Buffer, objectKey: string): Buffer {
  try {
    return unflagged(plain);
  } catch (e) {
    if (e instanceof CorruptPayload) throw new IntegrityError(objectKey, `${objectKey}: ${e.message}`);
    throw e;
  }
}
