/** How a drill samples files: every size class represented, extremes first, reproducible, no repeats. */
import { describe, expect, it } from 'vitest';
import { sampleFiles, seededRandom } from '../../src/drill/sample.js';

const file = (size: number, i: number) => ({ node: { size }, name: `f${i}` });

describe('sampleFiles', () => {
  // 10,000 small files, 100 medium, 3 huge, one empty: a typical server, skewed to small.
  const files = [
    ...Array.from({ length: 10_000 }, (_, i) => file(1000 + (i % 3000), i)),
    ...Array.from({ length: 100 }, (_, i) => file(5_000_000 + i, 10_000 + i)),
    ...Array.from({ length: 3 }, (_, i) => file(4_000_000_000 + i, 20_000 + i)),
    file(0, 30_000),
  ];

  it('draws the largest and the smallest class first, then every class in turn', () => {
    const s = sampleFiles(files, 4, seededRandom(1));
    expect(s[0]!.node.size).toBeGreaterThanOrEqual(4_000_000_000);
    expect(s[1]!.node.size).toBe(0);
    const sizes = sampleFiles(files, 20, seededRandom(1)).map((f) => f.node.size);
    expect(sizes.filter((n) => n >= 4_000_000_000).length).toBe(3); // the class runs out
    expect(sizes.filter((n) => n >= 5_000_000 && n < 4_000_000_000).length).toBeGreaterThan(2);
    expect(sizes.filter((n) => n > 0 && n < 5_000).length).toBeGreaterThan(8);
  });

  it('is reproducible from its seed, never repeats a file, and takes everything when asked for more', () => {
    const a = sampleFiles(files, 300, seededRandom(42)).map((f) => f.name);
    const b = sampleFiles(files, 300, seededRandom(42)).map((f) => f.name);
    const c = sampleFiles(files, 300, seededRandom(43)).map((f) => f.name);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBe(300);
    expect(sampleFiles(files, files.length + 5, seededRandom(1))).toHaveLength(files.length);
  });
});
