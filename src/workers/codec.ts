/**
 * The blob codec behind a worker pool: what the repository calls to seal and open blobs.
 * @module
 */
import type { BlobId } from '../domain/ids.js';
import type { BlobKeys, BlobType } from '../repository/blob-codec.js';
import { codecHandler, transferable, type CodecRequest } from './codec-tasks.js';
import { defaultPoolSize, WorkerPool, workerScript } from './pool.js';

export class CodecPool {
  private readonly pool: WorkerPool<CodecRequest, Uint8Array>;

  constructor(keys: BlobKeys, level: number, size = defaultPoolSize()) {
    const data = { dataKey: keys.dataKey, idKey: keys.idKey, level };
    const script = size > 0 ? workerScript('codec-worker', import.meta.url) : undefined;
    this.pool = new WorkerPool(script, data, size, codecHandler(data));
  }

  get inflight(): number {
    return this.pool.inflight;
  }

  get threads(): number {
    return this.pool.size;
  }

  /** Compresses (when it pays) and seals; `raw` is moved to the worker when it owns its buffer. */
  async seal(type: BlobType, id: BlobId, raw: Uint8Array): Promise<Buffer> {
    return toBuffer(await this.pool.run({ op: 'seal', type, id, raw }, transferable(raw)));
  }

  async open(type: BlobType, id: BlobId, sealed: Uint8Array, rawLength: number, where: string): Promise<Buffer> {
    return toBuffer(await this.pool.run({ op: 'open', type, id, sealed, rawLength, where }, transferable(sealed)));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
