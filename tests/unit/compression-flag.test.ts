/**
 * The compression flag in front of every sealed payload (blobs and envelopes alike): an
 * authentic payload whose flag is unknown, or whose zstd frame is cut short or larger than
 * announced, is an IntegrityError naming the object, never a crash or wrong bytes.
 */
import { describe, expect, it } from 'vitest';
import { seal } from '../../src/crypto/aead.js';
import { keyedId } from '../../src/crypto/blob-id.js';
import { compressIfWorthIt, FLAG_NONE, FLAG_ZSTD } from '../../src/compress/zstd.js';
import { IntegrityError } from '../../src/domain/errors.js';
import { idFromBytes, type BlobId } from '../../src/domain/ids.js';
import { blobAad, decodeBlob, decodeBlobInto, DecodeScratch } from '../../src/repository/blob-codec.js';
import { envelopeAad, openEnvelope, sealEnvelope } from '../../src/repository/envelope.js';

const keys = { dataKey: Buffer.alloc(32, 1), idKey: Buffer.alloc(32, 2) };
const raw = Buffer.from('MARTIN;Claire;1987-03-14;2 87 03 59 350 012 45;12 rue des Lilas, 59000 Lille\n'.repeat(200));
const id = idFromBytes<BlobId>(keyedId(keys.idKey, raw));
const frame = compressIfWorthIt(raw, 2);
/** A blob sealed by hand around `plain` (flag byte included): authentic, whatever it says. */
const sealedBlob = (plain: Buffer) => seal(keys.dataKey, plain, blobAad('data', id));

describe('the compression flag of a blob', () => {
  it('opens both flags to the same bytes, with a scratch or without', () => {
    expect(frame.flag).toBe(FLAG_ZSTD);
    for (const plain of [Buffer.concat([Buffer.from([FLAG_NONE]), raw]), Buffer.concat([Buffer.from([FLAG_ZSTD]), frame.bytes])]) {
      expect(decodeBlob(sealedBlob(plain), 'data', id, raw.length, keys, 'pack-x').equals(raw)).toBe(true);
      expect(decodeBlobInto(sealedBlob(plain), 'data', id, raw.length, keys, 'pack-x', new DecodeScratch(), { inPlace: true }).equals(raw)).toBe(true);
    }
  });

  it.each([
    ['an unknown flag', Buffer.concat([Buffer.from([7]), raw]), /pack-x: unknown compression flag 7/],
    ['a truncated frame', Buffer.concat([Buffer.from([FLAG_ZSTD]), frame.bytes.subarray(0, frame.bytes.length - 9)]), /pack-x: cannot decompress/],
    ['a frame larger than announced', Buffer.concat([Buffer.from([FLAG_ZSTD]), compressIfWorthIt(Buffer.concat([raw, raw]), 2).bytes]), /pack-x: cannot decompress/],
  ])('refuses %s as damage to the object', (_what, plain, message) => {
    for (const open of [
      () => decodeBlob(sealedBlob(plain), 'data', id, raw.length, keys, 'pack-x'),
      () => decodeBlobInto(sealedBlob(plain), 'data', id, raw.length, keys, 'pack-x', new DecodeScratch()),
    ]) {
      expect(open).toThrow(IntegrityError);
      expect(open).toThrow(message);
    }
  });
});

describe('the compression flag of an envelope', () => {
  it('opens a compressed envelope, and refuses an unknown flag or a cut frame naming the object', () => {
    const sealed = sealEnvelope('snapshot', raw, keys.dataKey, { level: 2 });
    expect(openEnvelope('snapshot', sealed, keys.dataKey, 'snapshots/x').equals(raw)).toBe(true);
    // The same header (format version, key kind), around a plaintext no writer produces.
    const header = sealed.subarray(0, 2);
    const forged = (plain: Buffer) => Buffer.concat([header, seal(keys.dataKey, plain, envelopeAad('snapshot', header))]);
    const open = (plain: Buffer) => () => openEnvelope('snapshot', forged(plain), keys.dataKey, 'snapshots/x');
    expect(open(Buffer.concat([Buffer.from([FLAG_NONE]), raw]))().equals(raw)).toBe(true);
    expect(open(Buffer.concat([Buffer.from([9]), raw]))).toThrow(/snapshots\/x: unknown compression flag 9/);
    expect(open(Buffer.concat([Buffer.from([FLAG_ZSTD]), frame.bytes.subarray(0, 20)]))).toThrow(IntegrityError);
  });
});
