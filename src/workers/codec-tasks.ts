/**
 * The tasks codec workers run: seal (compress + encrypt) a blob, open (decrypt +
 * decompress + check id) a blob, and back up a whole large file (file-task.ts). The same
 * handler runs inside worker threads and inline.
 * @module
 */
import type { BlobId } from '../domain/ids.js';
import { FastCdc, gearTable, type ChunkSizes } from '../chunker/fastcdc.js';
import { decodeBlob, encodeBlob, type BlobKeys, type BlobType } from '../repository/blob-codec.js';
import { chunkFile, WorkerPacker } from './file-task.js';
import { saveSmallFiles } from './small-files-task.js';
import type { SealingKey } from '../repository/envelope.js';
import type { TransferListItem } from 'node:worker_threads';
import { IntegrityError } from '../domain/errors.js';
import type { TaskHandler, TaskOutput } from './pool.js';
import { handOver } from './transfer.js';

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
  | {
      readonly op: 'open-range';
      /** the bytes of a pack from `base` on, holding every blob listed */
      readonly range: Uint8Array;
      readonly base: number;
      readonly blobs: readonly RangeBlob[];
      readonly where: string;
      readonly key?: Uint8Array;
    };

export interface RangeBlob {
  readonly type: BlobType;
  readonly id: BlobId;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

/** One opened blob of a range: its plaintext, or why it could not be opened. */
export type RangeResult = Uint8Array | { readonly error: string; readonly objectKey?: string };

export function codecHandler(data: CodecWorkerData): TaskHandler<CodecRequest, unknown> {
  const keys: BlobKeys = { dataKey: Buffer.from(data.dataKey), idKey: Buffer.from(data.idKey) };
  const gear = gearTable(Buffer.from(data.chunker.seed, 'hex'));
  const sealing: SealingKey = { key: keys.dataKey, ...(data.packing.sessionId ? { sessionId: Buffer.from(data.packing.sessionId) } : {}) };
  // This thread's pack being filled: the files it chunks share it, one after the other.
  let packer: WorkerPacker | undefined;
  return async (req, ctx) => {
    // A chunker per file: a worker interleaves several files while it waits for answers,
    // and a shared chunker's rolling state would mix them (cuts would stop being content-defined).
    if (req.op === 'chunk-file') {
      packer ??= new WorkerPacker(req.spoolDir, sealing, data.packing.packSize);
      return { result: await chunkFile(req.path, new FastCdc(gear, data.chunker), { ...keys, level: data.level }, packer, ctx) };
    }
    if (req.op === 'save-files') {
      packer ??= new WorkerPacker(req.spoolDir, sealing, data.packing.packSize);
      return { result: await saveSmallFiles(req.paths, req.minChunk, { ...keys, level: data.level }, packer, ctx) };
    }
    if (req.op === 'finish-pack') return { result: packer?.finish() ?? null };
    if (req.op === 'discard-pack') {
      packer?.discard();
      return { result: null };
    }
    if (req.op === 'open-range') return openRange(req, req.key ? { ...keys, dataKey: Buffer.from(req.key) } : keys);
    const result =
      req.op === 'seal'
        ? encodeBlob(req.type, req.id, req.raw, keys.dataKey, data.level)
        : decodeBlob(req.sealed, req.type, req.id, req.rawLength, req.key ? { ...keys, dataKey: Buffer.from(req.key) } : keys, req.where);
    const out = handOver(result);
    return { result: out.buf, transfer: out.transfer };
  };
}

/** Opens every blob of a fetched range; a damaged blob fails alone. */
function openRange(req: Extract<CodecRequest, { op: 'open-range' }>, keys: BlobKeys): TaskOutput<RangeResult[]> {
  const results: RangeResult[] = [];
  const transfer: TransferListItem[] = [];
  for (const b of req.blobs) {
    const start = b.offset - req.base;
    const sealed = req.range.subarray(start, start + b.length);
    try {
      if (start < 0 || sealed.length !== b.length) throw new IntegrityError(req.where, `${req.where}: truncated: blob ${b.id.slice(0, 8)} lies past its end`);
      const out = handOver(decodeBlob(sealed, b.type, b.id, b.rawLength, keys, req.where));
      results.push(out.buf);
      transfer.push(...out.transfer);
    } catch (e) {
      results.push({ error: e instanceof Error ? e.message : String(e), ...(e instanceof IntegrityError ? { objectKey: e.objectKey } : {}) });
    }
  }
  return { result: results, transfer };
}
