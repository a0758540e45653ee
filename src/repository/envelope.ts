/**
 * The envelope that seals every whole object (config, index, snapshot) and every pack
 * header: a 2-byte clear header, then nonce ‖ ciphertext ‖ tag. The clear header and the
 * object's type are the associated data, so an index can never be passed off as a
 * snapshot, nor a v1 object as anything else.
 *
 *   byte 0   format version (1)
 *   byte 1   key kind: 0 = repository data key; 1 = write-only session key (reserved:
 *            followed by a 32-byte session id; v1 readers refuse it with a clear error)
 *
 * The sealed plaintext starts with one compression byte (0 none, 1 zstd) and the payload.
 * @module
 */
import { FormatError, IntegrityError } from '../domain/errors.js';
import { AuthenticationError, open, seal } from '../crypto/aead.js';
import { compressIfWorthIt, decompress, type Compression } from '../compress/zstd.js';

export const FORMAT_VERSION = 1;
export const KEY_KIND_REPOSITORY = 0;
export const KEY_KIND_SESSION = 1;

export type EnvelopeType = 'config' | 'index' | 'snapshot' | 'pack-header' | 'prune-plan';

const HEADER_BYTES = 2;

export function envelopeAad(type: EnvelopeType, header: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`coffre/v1/${type}\0`, 'latin1'), header]);
}

export function sealEnvelope(type: EnvelopeType, payload: Uint8Array, dataKey: Uint8Array, compression: Compression): Buffer {
  const header = Buffer.from([FORMAT_VERSION, KEY_KIND_REPOSITORY]);
  const body = compression.level > 0 ? compressIfWorthIt(payload, compression.level) : { flag: 0, bytes: payload };
  const plain = Buffer.concat([Buffer.from([body.flag]), body.bytes]);
  const sealed = seal(dataKey, plain, envelopeAad(type, header), HEADER_BYTES);
  header.copy(sealed, 0);
  return sealed;
}

/** Opens an envelope; `objectKey` names the object in errors. */
export function openEnvelope(type: EnvelopeType, bytes: Uint8Array, dataKey: Uint8Array, objectKey: string): Buffer {
  if (bytes.length < HEADER_BYTES) throw new IntegrityError(objectKey, `${objectKey}: truncated (${bytes.length} bytes)`);
  const version = bytes[0];
  const keyKind = bytes[1];
  if (version !== FORMAT_VERSION) {
    throw new FormatError(`${objectKey}: format version ${version} is not supported by this version of coffre (supports ${FORMAT_VERSION})`);
  }
  if (keyKind === KEY_KIND_SESSION) {
    throw new FormatError(`${objectKey}: written in write-only (session key) mode, which this version of coffre cannot read`);
  }
  if (keyKind !== KEY_KIND_REPOSITORY) throw new IntegrityError(objectKey, `${objectKey}: unknown key kind ${keyKind}`);
  const header = bytes.subarray(0, HEADER_BYTES);
  let plain: Buffer;
  try {
    plain = open(dataKey, bytes.subarray(HEADER_BYTES), envelopeAad(type, header));
  } catch (e) {
    if (e instanceof AuthenticationError) {
      throw new IntegrityError(objectKey, `${objectKey}: authentication failed (object damaged or not a ${type})`);
    }
    throw e;
  }
  return unwrapCompression(plain, objectKey);
}

/** Removes the leading compression byte of a sealed plaintext, decompressing if needed. */
export function unwrapCompression(plain: Buffer, objectKey: string, expectedLength?: number): Buffer {
  const flag = plain[0];
  const body = plain.subarray(1);
  let out: Buffer;
  if (flag === 0) out = body;
  else if (flag === 1) {
    try {
      out = decompress(body);
    } catch (e) {
      throw new IntegrityError(objectKey, `${objectKey}: cannot decompress: ${(e as Error).message}`);
    }
  } else throw new IntegrityError(objectKey, `${objectKey}: unknown compression flag ${String(flag)}`);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new IntegrityError(objectKey, `${objectKey}: decoded ${out.length} bytes, expected ${expectedLength}`);
  }
  return out;
}
