/**
 * withTightHeap (src/util/tight-heap.ts) runs what it wraps and hands back its result or its
 * error, nested or concurrent; what the bound saves is measured by scripts/bench-memory.sh.
 */
import { describe, expect, it } from 'vitest';
import { withTightHeap } from '../../src/util/tight-heap.js';

describe('withTightHeap', () => {
  it('returns the result, rethrows the error, and nests', async () => {
    expect(await withTightHeap(async () => 42)).toBe(42);
    await expect(withTightHeap(async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    const inner = await withTightHeap(() => Promise.all([withTightHeap(async () => 'a'), withTightHeap(async () => 'b')]));
    expect(inner).toEqual(['a', 'b']);
  });
});
