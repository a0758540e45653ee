/**
 * A small pool of worker threads for CPU-heavy pure work (compress + seal on backup,
 * open + decompress on restore), so both cores are used while the main thread reads files
 * and talks to storage. `run` resolves with the worker's answer; at most `maxQueued` tasks
 * wait per worker, which is the pipeline's backpressure. With size 0 the tasks run inline
 * on the calling thread (COFFRE_WORKERS=0, useful for profiling and debugging).
 * @module
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { IntegrityError } from '../domain/errors.js';

export interface TaskHandler<Req, Res> {
  (req: Req): { result: Res; transfer?: TransferListItem[] };
}

interface Pending<Res> {
  resolve(r: Res): void;
  reject(e: unknown): void;
}

interface Slot<Res> {
  worker: Worker;
  inflight: Map<number, Pending<Res>>;
}

export function defaultPoolSize(): number {
  const env = process.env.COFFRE_WORKERS;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env);
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/**
 * Resolves the compiled worker script. Under vitest the modules run from src/*.ts, but a
 * worker thread cannot load TypeScript on Node 20, so the compiled copy in dist/ is used
 * (the test command builds first).
 */
export function workerScript(name: string, base: string): URL {
  const url = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(url))) return url;
  const compiled = new URL(url.href.replace('/src/', '/dist/'));
  if (existsSync(fileURLToPath(compiled))) return compiled;
  throw new Error(`worker script ${name}.js not found (run "npm run build")`);
}

export class WorkerPool<Req, Res> {
  private readonly slots: Slot<Res>[] = [];
  private nextId = 1;
  private closed = false;
  private failure: unknown;

  constructor(
    script: URL | undefined,
    workerData: unknown,
    size: number,
    private readonly inline: TaskHandler<Req, Res>,
  ) {
    if (!script) return;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(script, { workerData });
      const slot: Slot<Res> = { worker, inflight: new Map() };
      worker.on('message', (m: { id: number; result?: Res; error?: string; objectKey?: string }) => {
        const p = slot.inflight.get(m.id);
        if (!p) return;
        slot.inflight.delete(m.id);
        if (m.error === undefined) p.resolve(m.result as Res);
        else p.reject(m.objectKey === undefined ? new Error(m.error) : new IntegrityError(m.objectKey, m.error));
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`worker thread exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Number of tasks sent and not yet answered. */
  get inflight(): number {
    let n = 0;
    for (const s of this.slots) n += s.inflight.size;
    return n;
  }

  run(req: Req, transfer: TransferListItem[] = []): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.slots.length === 0) {
      try {
        return Promise.resolve(this.inline(req).result);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.inflight.size < slot.inflight.size) slot = s;
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      slot.inflight.set(id, { resolve, reject });
      slot.worker.postMessage({ id, req }, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    for (const s of this.slots) {
      for (const p of s.inflight.values()) p.reject(e);
      s.inflight.clear();
    }
  }
}
