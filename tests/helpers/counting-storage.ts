/**
 * A Storage that counts the requests it passes on, by operation and key prefix ("index/",
 * "sessions/"…): for tests of how many requests a command makes, which on S3 cost latency
 * and money. Everything else goes straight through.
 */
import type { Storage } from '../../src/storage/storage.js';

export interface CountingStorage {
  readonly storage: Storage;
  /** "list index/", "get index/", "getRange data/"… → requests */
  readonly counts: Map<string, number>;
  count(op: 'list' | 'get' | 'getRange' | 'stat', prefix: string): number;
}

const COUNTED = new Set(['list', 'get', 'getRange', 'stat']);

export function countingStorage(inner: Storage): CountingStorage {
  const counts = new Map<string, number>();
  const prefixOf = (key: string) => (key.includes('/') ? `${key.slice(0, key.indexOf('/'))}/` : key);
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      if (typeof prop !== 'string' || !COUNTED.has(prop)) return fn;
      return (key: string, ...rest: unknown[]) => {
        const name = `${prop} ${prefixOf(key)}`;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return fn(key, ...rest);
      };
    },
  });
  return { storage, counts, count: (op, prefix) => counts.get(`${op} ${prefix}`) ?? 0 };
}
