/**
 * A small pool of worker threads for CPU-heavy work (chunking, hashing, compression and
 * sealing on backup; opening blobs on restore), so both cores are used while the main
 * thread walks directories and talks to storage.
 *
 * A task is a request and a result, and may hold a conversation on the way: the worker can
 * `ask` the main thread something (is this blob new?) and wait for the answer, or `tell` it
 * something (here are sealed blobs). With size 0 the handler runs inline on the calling
 * thread with the same conversation (COFFRE_WORKERS=0, for profiling and debugging).
 * @module
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { describeError, IntegrityError, StorageError, WorkerFailedError, type StorageErrorKind } from '../domain/errors.js';

export interface TaskContext {
  ask(msg: unknown, transfer?: TransferListItem[]): Promise<unknown>;
  tell(msg: unknown, transfer?: TransferListItem[]): void;
}

export interface TaskOutput<Res> {
  result: Res;
  transfer?: TransferListItem[];
}

export type TaskHandler<Req, Res> = (req: Req, ctx: TaskContext) => TaskOutput<Res> | Promise<TaskOutput<Res>>;

/** What the main thread does with a task's messages; the return value answers an `ask`. */
export type OnTaskMessage = (msg: unknown) => unknown;

/** Worker → main. */
export type FromWorker =
  | { id: number; kind: 'result'; result: unknown }
  | { id: number; kind: 'error'; error: string; objectKey?: string; code?: string; storageKind?: StorageErrorKind }
  | { id: number; kind: 'ask'; seq: number; msg: unknown }
  | { id: number; kind: 'tell'; msg: unknown };

/** Main → worker. */
export type ToWorker = { id: number; kind: 'run'; req: unknown } | { id: number; kind: 'answer'; seq: number; answer: unknown };

interface Pending {
  resolve(r: unknown): void;
  reject(e: unknown): void;
  onMessage?: OnTaskMessage;
}

interface Slot {
  worker: Worker;
  inflight: Map<number, Pending>;
}

export function defaultPoolSize(): number {
  const env = process.env.COFFRE_WORKERS;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env);
  return Math.max(1, Math.min(availableParallelism(), 8));
}

/**
 * Resolves the compiled worker script: the bundle `npm run build` makes of it
 * (scripts/bundle.mjs: one file, which a thread loads in 50 ms against 70 for its
 * modules one by one), else the file tsc compiled. Under vitest the modules run from
 * src/*.ts, but a worker thread cannot load TypeScript on Node 20, so the compiled copy in
 * dist/ is used (the test command builds first).
 */
export function workerScript(name: string, base: string): URL {
  for (const file of [`${name}.bundle.js`, `${name}.js`]) {
    const url = new URL(`./${file}`, base);
    if (existsSync(fileURLToPath(url))) return url;
    const compiled = new URL(url.href.replace('/src/', '/dist/'));
    if (existsSync(fileURLToPath(compiled))) return compiled;
  }
  throw new Error(`worker script ${name}.js not found (run "npm run build")`);
}

export class WorkerPool<Req, Res> {
  private readonly slots: Slot[] = [];
  /**
   * The threads to start, one at a time: on the first task, then whenever a task comes while
   * every running thread is busy. A backup that finds nothing changed, or a command that only
   * lists, never pays for them (about 0.1 s of CPU and 7-10 MiB each), and one that saves a
   * single file, or a few small ones, pays for one.
   */
  private readonly spec: { script: URL; workerData: unknown; size: number } | undefined;
  private nextId = 1;
  private closed = false;
  private failure: unknown;

  constructor(
    script: URL | undefined,
    workerData: unknown,
    size: number,
    private readonly inline: TaskHandler<Req, Res>,
  ) {
    if (script && size > 0) this.spec = { script, workerData, size };
  }

  /** Starts every thread now rather than on demand: their start-up then overlaps other work. */
  warmUp(): void {
    if (!this.closed && !this.failure) while (this.grow());
  }

  /** Starts one more thread, unless all of them run; says whether it did. */
  private grow(): boolean {
    const spec = this.spec;
    if (!spec || this.slots.length >= spec.size) return false;
    const worker = new Worker(spec.script, { workerData: spec.workerData });
    const slot: Slot = { worker, inflight: new Map() };
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (e) => this.fail(new WorkerFailedError(`a worker thread failed: ${describeError(e)}`, { cause: e })));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new WorkerFailedError(`a worker thread exited with code ${code}`));
    });
    this.slots.push(slot);
    return true;
  }

  /** The threads the pool may run (0: every task runs inline). */
  get size(): number {
    return this.closed ? 0 : (this.spec?.size ?? 0);
  }

  /** The threads started so far. */
  get started(): number {
    return this.slots.length;
  }

  run(req: Req, transfer: TransferListItem[] = [], onMessage?: OnTaskMessage): Promise<Res> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.closed && this.slots.every((s) => s.inflight.size > 0)) this.grow();
    if (this.slots.length === 0) return this.runInline(req, onMessage);
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.inflight.size < slot.inflight.size) slot = s;
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      slot.inflight.set(id, { resolve: resolve as (r: unknown) => void, reject, onMessage });
      slot.worker.postMessage({ id, kind: 'run', req } satisfies ToWorker, transfer);
    });
  }

  /**
   * Runs the request once on every worker thread that was started (inline: once here), for
   * what each thread holds of its own; a pool never started has nothing to report.
   */
  async runOnEach(req: Req): Promise<Res[]> {
    if (this.failure) throw this.failure;
    if (this.slots.length === 0) return this.spec || this.closed ? [] : [await this.runInline(req)];
    return Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<Res>((resolve, reject) => {
            const id = this.nextId++;
            slot.inflight.set(id, { resolve: resolve as (r: unknown) => void, reject });
            slot.worker.postMessage({ id, kind: 'run', req } satisfies ToWorker);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private async runInline(req: Req, onMessage?: OnTaskMessage): Promise<Res> {
    const ctx: TaskContext = {
      ask: async (msg) => onMessage?.(msg),
      tell: (msg) => void onMessage?.(msg),
    };
    return (await this.inline(req, ctx)).result;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    const p = slot.inflight.get(m.id);
    if (!p) return;
    if (m.kind === 'ask') {
      Promise.resolve()
        .then(() => p.onMessage?.(m.msg))
        .then(
          (answer) => slot.worker.postMessage({ id: m.id, kind: 'answer', seq: m.seq, answer } satisfies ToWorker),
          (e: unknown) => this.fail(e),
        );
      return;
    }
    if (m.kind === 'tell') {
      try {
        p.onMessage?.(m.msg);
      } catch (e) {
        this.fail(e);
      }
      return;
    }
    slot.inflight.delete(m.id);
    if (m.kind === 'result') p.resolve(m.result);
    else if (m.objectKey !== undefined) p.reject(new IntegrityError(m.objectKey, m.error));
    else if (m.storageKind !== undefined) p.reject(new StorageError(m.storageKind, m.error));
    else p.reject(Object.assign(new Error(m.error), m.code === undefined ? {} : { code: m.code }));
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    for (const s of this.slots) {
      for (const p of s.inflight.values()) p.reject(e);
      s.inflight.clear();
    }
  }
}
