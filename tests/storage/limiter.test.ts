/** The limiter: requests in flight never exceed the limit, and uploads keep the average rate. */
import { describe, expect, it } from 'vitest';
import { withLimits } from '../../src/storage/limiter.js';
import type { ObjectInfo, Storage } from '../../src/storage/storage.js';
import { listAll } from '../../src/storage/storage.js';

/** An in-memory storage whose every request takes a few ms and counts how many overlap. */
function probe(): Storage & { inFlight: number; maxInFlight: number; putTimes: number[] } {
  const objects = new Map<string, Buffer>();
  const slow = async <T>(fn: () => T): Promise<T> => {
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    s.inFlight--;
    return fn();
  };
  const s = {
    inFlight: 0,
    maxInFlight: 0,
    putTimes: [] as number[],
    location: 'memory',
    capabilities: { rangeReads: true, atomicCreate: true, objectLock: false, readsInFlight: 4, readBytes: 1024 * 1024 },
    put: (key: string, body: Uint8Array) => slow(() => void objects.set(key, Buffer.from(body))),
    get: (key: string) => slow(() => objects.get(key) ?? Buffer.alloc(0)),
    getRange: (key: string, o: number, n: number) => slow(() => (objects.get(key) ?? Buffer.alloc(0)).subarray(o, o + n)),
    stat: (key: string) => slow(() => ({ key, size: objects.get(key)?.length ?? 0 })),
    delete: (key: string) => slow(() => void objects.delete(key)),
    close: async () => undefined,
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      for (const [key, body] of objects) if (key.startsWith(prefix)) yield await slow(() => ({ key, size: body.length }));
    },
  };
  return s;
}

describe('limiter wrapper', () => {
  it('keeps requests in flight at or below the limit, and uses it', async () => {
    const inner = probe();
    const s = withLimits(inner, { maxConcurrent: 3 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(`k${i}`, Buffer.from([i]))));
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => s.get(`k${i}`)),
      ...Array.from({ length: 5 }, (_, i) => s.stat(`k${i}`)),
      listAll(s, 'k'),
      listAll(s, 'k1'),
    ]);
    expect(inner.maxInFlight).toBe(3);
    expect((await listAll(s, '')).length).toBe(20);
  });

  it('holds uploads to the configured average rate, the first one without waiting', async () => {
    let now = 0;
    const waits: number[] = [];
    const s = withLimits(probe(), {
      maxConcurrent: 8,
      uploadBytesPerSecond: 100_000,
      burstBytes: 100_000,
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    // 5 × 100 kB at 100 kB/s: the burst pays for the first, the second goes into debt, and each
    // later one waits 1 s for the debt to be repaid, so the rate holds from the second on.
    await Promise.all(Array.from({ length: 5 }, (_, i) => s.put(`p${i}`, new Uint8Array(100_000))));
    expect(now).toBe(3000);
    expect(waits).toEqual([1000, 1000, 1000]);
    // Reads are never held back by the upload budget.
    now = 0;
    await s.get('p0');
    expect(now).toBe(0);
  });
});
