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

/**
 * A buffer ready to cross to another thread, and what to transfer. postMessage clones a
 * view's whole underlying ArrayBuffer (a 16 MiB pack range for a 2 KiB blob, or Node's
 * shared 8 KiB pool), so a view that does not own its memory is first copied into one
 * that does; owned buffers move without any copy.
 */
export function detached(buf: Uint8Array): { buf: Uint8Array; transfer: TransferListItem[] } {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) {
    return { buf, transfer: [buf.buffer] };
  }
  const own = new Uint8Array(buf.byteLength);
  own.set(buf);
  return { buf: own, transfer: [own.buffer] };
}

export function codecHandler(data: CodecWorkerData): TaskHandler<CodecRequest, Uint8Array> {
  const keys: BlobKeys = { dataKey: Buffer.from(data.dataKey), idKey: Buffer.from(data.idKey) };
  return (req) => {
    const result =
      req.op === 'seal'
        ? encodeBlob(req.type, req.id, req.raw, keys.dataKey, data.level)
        : decodeBlob(req.sealed, req.type, req.id, req.rawLength, keys, req.where);
    const out = detached(result);
    return { result: out.buf, transfer: out.transfer };
  };
}
