/**
 * The blob codec as worker tasks: seal (compress + encrypt) for backup, open (decrypt +
 * decompress + check id) for restore and check. The same handler runs inside worker
 * threads and inline.
 * @module
 */
import type { TransferListItem } from 'node:worker_threads';
import type { BlobId } from '../domain/ids.js';
import { decodeBlob, encodeBlob, type BlobKeys, type BlobType } from '../repository/blob-codec.js';
import type { TaskHandler } from './pool.js';

export interface CodecWorkerData {
  readonly dataKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly level: number;
}

export type CodecRequest =
  | { readonly op: 'seal'; readonly type: BlobType; readonly id: BlobId; readonly raw: Uint8Array }
  | {
      readonly op: 'open';
      readonly type: BlobType;
      readonly id: BlobId;
      readonly sealed: Uint8Array;
      readonly rawLength: number;
      readonly where: string;
    };

/** Buffers that own their whole ArrayBuffer can be moved between threads without a copy. */
export function transferable(buf: Uint8Array): TransferListItem[] {
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.byteLength >= 64 * 1024
    ? [buf.buffer as ArrayBuffer]
    : [];
}

export function codecHandler(data: CodecWorkerData): TaskHandler<CodecRequest, Uint8Array> {
  const keys: BlobKeys = { dataKey: Buffer.from(data.dataKey), idKey: Buffer.from(data.idKey) };
  return (req) => {
    const result =
      req.op === 'seal'
        ? encodeBlob(req.type, req.id, req.raw, keys.dataKey, data.level)
        : decodeBlob(req.sealed, req.type, req.id, req.rawLength, keys, req.where);
    return { result, transfer: transferable(result) };
  };
}
