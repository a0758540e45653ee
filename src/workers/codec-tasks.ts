/**
 * The tasks codec workers run: seal (compress + encrypt) a blob, open (decrypt +
 * decompress + check id) a blob, back up a whole large file (file-task.ts) or a batch of
 * small ones (small-files-task.ts) into the worker's own pack, and restore a
 * fetched range of a pack to the files that need it (restore-task.ts). The same handler
 * runs inside worker threads and inline.
 * @module
 */
import type { BlobId } from '../domain/ids.js';
import { FastCdc, gearTable, type ChunkSizes } from '../chunker/fastcdc.js';
import { decodeBlob, encodeBlob, withPackKey, type BlobKeys, type BlobType } from '../repository/blob-codec.js';
import { chunkFile } from './file-task.js';
import { WorkerPacker } from './worker-packer.js';
import { saveSmallFiles } from './small-files-task.js';
import type { SealingKey } from '../repository/envelope.js';
import type { TaskHandler } from './pool.js';
import { handOver } from './transfer.js';
import { restoreRange, type RestoreRangeRequest, type RestoreRangeResult } from './restore-task.js';

export interface CodecWorkerData {
  readonly dataKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly level: number;
  readonly chunker: ChunkSizes & { readonly seed: string };
  /** packs built in workers: their target size, and the write-only session they belong to */
  readonly packing: { readonly packSize: number; readonly sessionId?: Uint8Array };
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
      /** the key of the blob's pack when it is not the data key (a write-only session's) */
      readonly key?: Uint8Array;
    }
  | { readonly op: 'chunk-file'; readonly path: string; readonly spoolDir: string }
  | { readonly op: 'save-files'; readonly paths: readonly string[]; readonly minChunk: number; readonly spoolDir: string }
  /** closes this worker's pack being filled, if any: the result is a SpooledPack or null */
  | { readonly op: 'finish-pack' }
  /** drops this worker's pack being filled (a failed backup) */
  | { readonly op: 'discard-pack' }
  | RestoreRangeRequest;

export interface RangeBlob {
  readonly type: BlobType;
  readonly id: BlobId;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

export function codecHandler(data: CodecWorkerData): TaskHandler<CodecRequest, unknown> {
  const keys: BlobKeys = { dataKey: Buffer.from(data.dataKey), idKey: Buffer.from(data.idKey) };
  const gear = gearTable(Buffer.from(data.chunker.seed, 'hex'));
  const sealing: SealingKey = { key: keys.dataKey, ...(data.packing.sessionId ? { sessionId: Buffer.from(data.packing.sessionId) } : {}) };
  // This thread's pack being filled: the files it saves share it, one after the other.
  let packer: WorkerPacker | undefined;
  const packerFor = (spoolDir: string) => (packer ??= new WorkerPacker(spoolDir, sealing, data.packing.packSize, data.level));
  return async (req, ctx) => {
    // A chunker per file: a worker interleaves several files while it waits for answers,
    // and a shared chunker's rolling state would mix them (cuts would stop being content-defined).
    if (req.op === 'chunk-file') {
      return { result: await chunkFile(req.path, new FastCdc(gear, data.chunker), keys.idKey, packerFor(req.spoolDir), ctx) };
    }
    if (req.op === 'save-files') {
      return { result: await saveSmallFiles(req.paths, req.minChunk, keys.idKey, packerFor(req.spoolDir), ctx) };
    }
    if (req.op === 'finish-pack') return { result: packer?.finish() ?? null };
    if (req.op === 'discard-pack') {
      packer?.discard();
      return { result: null };
    }
    if (req.op === 'restore-range') {
      const report = restoreRange(req, withPackKey(keys, req.key));
      // The range's memory goes back with the report, for the main thread to read the next
      // range into (a worker kept up to ~55 MiB of spent ranges waiting for its own collection).
      const back = req.range.buffer instanceof ArrayBuffer && req.range.byteLength > 0 ? [req.range.buffer] : [];
      return { result: { report, range: back.length > 0 ? req.range : undefined } satisfies RestoreRangeResult, transfer: back };
    }
    const result =
      req.op === 'seal'
        ? encodeBlob(req.type, req.id, req.raw, keys.dataKey, data.level)
        : decodeBlob(req.sealed, req.type, req.id, req.rawLength, withPackKey(keys, req.key), req.where);
    const out = handOver(result);
    return { result: out.buf, transfer: out.transfer };
  };
}
