/**
 * forEachLimited (repository.ts), the one bounded loop of the code base: over an array or a
 * generator that produces items as they are needed (a restore's walk of a snapshot). At most
 * `limit` run at once; a generator runs at most one item ahead of the free runner; after a
 * failure no item starts, the generator is closed, and the first error is thrown once the
 * running ones are done.
 */
import { describe, expect, it } from 'vitest';
import { forEachLimited } from '../../src/repository/repository.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('forEachLimited', () => {
  it('runs every item of an array, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      most = Math.max(most, ++running);
      await tick();
      seen.push(n);
      running--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('takes items from a generator only as runners free up', async () => {
    let produced = 0;
    let done = 0;
    let mostAhead = 0;
    async function* items() {
      for (let i = 0; i < 10; i++) {
        produced++;
        yield i;
      }
    }
    await forEachLimited(items(), 2, async () => {
      mostAhead = Math.max(mostAhead, produced - done);
      await tick();
      done++;
    });
    expect(done).toBe(10);
    expect(mostAhead).toBeLessThanOrEqual(2); // the two running, nothing produced beyond them
  });

  it('stops taking items after a failure, closes the generator, and throws the first error', async () => {
    let closed = false;
    let taken = 0;
    async function* items() {
      try {
        for (let i = 0; i < 100; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const run = forEachLimited(items(), 2, async (n) => {
      taken++;
      await tick();
      if (n === 3) throw new Error('first');
      if (n === 4) throw new Error('second');
    });
    await expect(run).rejects.toThrow('first');
    expect(closed).toBe(true);
    expect(taken).toBeLessThan(8);
  });

  it('reports a failure of the generator itself', async () => {
    async function* items() {
      yield 1;
      throw new Error('walk failed');
    }
    const seen: number[] = [];
    await expect(forEachLimited(items(), 4, async (n) => void seen.push(n))).rejects.toThrow('walk failed');
    expect(seen).toEqual([1]);
  });
});
