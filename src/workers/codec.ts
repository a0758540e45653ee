/**
 * The blob codec behind a worker pool: what the repository calls to seal and open blobs.
 * @module
 */
import type { BlobId } from '../domain/ids.js';
import type { BlobKeys, BlobType } from '../repository/blob-codec.js';
import { codecHandler, detached, type CodecRequest } from './codec-tasks.js';
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

  /** Compresses (when it pays) and seals; `raw` is moved to the worker when it owns its buffer: do not reuse it. */
  async seal(type: BlobType, id: BlobId, raw: Uint8Array): Promise<Buffer> {
    if (this.pool.size === 0) return toBuffer(await this.pool.run({ op: 'seal', type, id, raw }));
    const d = detached(raw);
    return toBuffer(await this.pool.run({ op: 'seal', type, id, raw: d.buf }, d.transfer));
  }

  /** Opens a sealed blob; `sealed` is copied if it is a view into a larger buffer. */
  async open(type: BlobType, id: BlobId, sealed: Uint8Array, rawLength: number, where: string): Promise<Buffer> {
    if (this.pool.size === 0) return toBuffer(await this.pool.run({ op: 'open', type, id, sealed, rawLength, where }));
    const d = detached(sealed);
    return toBuffer(await this.pool.run({ op: 'open', type, id, sealed: d.buf, rawLength, where }, d.transfer));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
