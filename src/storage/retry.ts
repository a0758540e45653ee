/**
 * Retries storage operations that failed with a 'transient' StorageError, with jittered
 * exponential backoff. Backends classify errors once; this wrapper only reads `kind`.
 *
 * Repeating an operation whose answer was lost needs care, because the first attempt may have
 * taken effect on the server:
 * - put: a retry that meets 'already-exists' after a transient failure reads the object back;
 *   if it holds exactly our bytes, our earlier attempt landed and the put succeeded.
 * - delete: a retry that meets 'not-found' after a transient failure means it was deleted.
 * - list: restarts from the beginning and skips keys already yielded ("each once").
 * @module
 */
import { StorageError } from '../domain/errors.js';
import { bodyBytes, type Body, type ObjectInfo, type PutOptions, type Retention, type Storage } from './storage.js';

export interface RetryEvent {
  readonly op: string;
  readonly key: string;
  /** The attempt that just failed (1 = the first try). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: StorageError;
}

export interface RetryOptions {
  /** Total attempts including the first. Default 6. */
  readonly maxAttempts?: number;
  /** Delay before the first retry, doubled each time. Default 250 ms. */
  readonly baseDelayMs?: number;
  /** No single wait longer than this. Default 20 s. */
  readonly maxDelayMs?: number;
  readonly onRetry?: (event: RetryEvent) => void;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export const RETRY_DEFAULTS = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 20_000 } as const;

export function withRetry(inner: Storage, opts: RetryOptions = {}): Storage {
  const maxAttempts = Math.max(1, opts.maxAttempts ?? RETRY_DEFAULTS.maxAttempts);
  const base = opts.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs;
  const cap = opts.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = opts.random ?? Math.random;

  /** Half fixed, half random: never an instant retry, and no two clients in lock-step. */
  const delayFor = (attempt: number) => {
    const exp = Math.min(cap, base * 2 ** (attempt - 1));
    return Math.round(exp / 2 + random() * (exp / 2));
  };

  /** Waits before the next attempt, or throws the final error once attempts are used up. */
  const backoff = async (op: string, key: string, e: unknown, attempt: number): Promise<void> => {
    if (!(e instanceof StorageError) || e.kind !== 'transient') throw e;
    if (attempt >= maxAttempts) {
      throw new StorageError(e.kind, `${e.message} (gave up after ${attempt} attempts)`, { cause: e, hint: e.hint });
    }
    const delayMs = delayFor(attempt);
    opts.onRetry?.({ op, key, attempt, delayMs, error: e });
    await sleep(delayMs);
  };

  /** `fn` gets whether an earlier attempt failed transiently (and so may have taken effect). */
  const run = async <T>(op: string, key: string, fn: (afterTransient: boolean) => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt > 1);
      } catch (e) {
        await backoff(op, key, e, attempt);
      }
    }
  };

  const put = (key: string, body: Body, putOpts?: PutOptions) =>
    run('put', key, async (afterTransient) => {
      try {
        await inner.put(key, body, putOpts);
      } catch (e) {
        if (!afterTransient || !(e instanceof StorageError) || e.kind !== 'already-exists') throw e;
        const stored = await run('get', key, () => inner.get(key));
        if (!(await bodyBytes(body)).equals(stored)) throw e;
      }
    });

  const del = (key: string) =>
    run('delete', key, async (afterTransient) => {
      try {
        await inner.delete(key);
      } catch (e) {
        if (!afterTransient || !(e instanceof StorageError) || e.kind !== 'not-found') throw e;
      }
    });

  async function* list(prefix: string): AsyncIterable<ObjectInfo> {
    const yielded = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const info of inner.list(prefix)) {
          if (yielded.has(info.key)) continue;
          yielded.add(info.key);
          yield info;
        }
        return;
      } catch (e) {
        await backoff('list', prefix, e, attempt);
      }
    }
  }

  const { objectLock, extendRetention, retention, spoolDir } = inner;
  return {
    get location() {
      return inner.location;
    },
    get capabilities() {
      return inner.capabilities;
    },
    put,
    get: (key) => run('get', key, () => inner.get(key)),
    getRange: (key, offset, length, into) => run('getRange', key, () => inner.getRange(key, offset, length, into)),
    stat: (key) => run('stat', key, () => inner.stat(key)),
    list,
    delete: del,
    close: () => inner.close(),
    ...(spoolDir && { spoolDir: () => spoolDir.call(inner) }),
    ...(objectLock && { objectLock: () => run('objectLock', '', () => objectLock.call(inner)) }),
    ...(extendRetention && {
      extendRetention: (key: string, r: Retention) => run('extendRetention', key, () => extendRetention.call(inner, key, r)),
    }),
    ...(retention && { retention: (key: string) => run('retention', key, () => retention.call(inner, key)) }),
  };
}
