/**
 * A Storage that fails on purpose, in process: the next N calls of an operation throw a
 * transient StorageError, either before touching the inner storage or after it (the request
 * took effect but its answer was "lost"). Lists can fail after yielding some items.
 */
import { StorageError, type StorageErrorKind } from '../../src/domain/errors.js';
import type { Body, ObjectInfo, Storage } from '../../src/storage/storage.js';

type Op = 'put' | 'get' | 'getRange' | 'stat' | 'delete' | 'list';

export interface PlannedFailure {
  readonly times: number;
  /** 'before': nothing happened; 'after': the operation took effect, then failed. */
  readonly when?: 'before' | 'after';
  readonly kind?: StorageErrorKind;
  /** For list: how many items to yield before failing. */
  readonly afterItems?: number;
}

export class FlakyStorage implements Storage {
  readonly calls: Record<Op, number> = { put: 0, get: 0, getRange: 0, stat: 0, delete: 0, list: 0 };
  private readonly plans = new Map<Op, PlannedFailure & { left: number }>();

  constructor(private readonly inner: Storage) {}

  get location(): string {
    return this.inner.location;
  }
  get capabilities() {
    return this.inner.capabilities;
  }

  failNext(op: Op, failure: PlannedFailure): this {
    this.plans.set(op, { ...failure, left: failure.times });
    return this;
  }

  put(key: string, body: Body): Promise<void> {
    return this.wrap('put', key, () => this.inner.put(key, body));
  }
  get(key: string): Promise<Buffer> {
    return this.wrap('get', key, () => this.inner.get(key));
  }
  getRange(key: string, offset: number, length: number): Promise<Buffer> {
    return this.wrap('getRange', key, () => this.inner.getRange(key, offset, length));
  }
  stat(key: string): Promise<ObjectInfo> {
    return this.wrap('stat', key, () => this.inner.stat(key));
  }
  delete(key: string): Promise<void> {
    return this.wrap('delete', key, () => this.inner.delete(key));
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.calls.list++;
    const plan = this.take('list');
    let n = 0;
    for await (const info of this.inner.list(prefix)) {
      if (plan && n === (plan.afterItems ?? 0)) throw injected(plan.kind, 'list', prefix);
      n++;
      yield info;
    }
    if (plan) throw injected(plan.kind, 'list', prefix);
  }

  private async wrap<T>(op: Op, key: string, fn: () => Promise<T>): Promise<T> {
    this.calls[op]++;
    const plan = this.take(op);
    if (!plan) return fn();
    if (plan.when === 'after') await fn();
    throw injected(plan.kind, op, key);
  }

  private take(op: Op): PlannedFailure | undefined {
    const plan = this.plans.get(op);
    if (!plan || plan.left === 0) return undefined;
    plan.left--;
    return plan;
  }
}

function injected(kind: StorageErrorKind = 'transient', op: string, key: string): StorageError {
  return new StorageError(kind, `${key}: injected ${kind} failure of ${op}`);
}
