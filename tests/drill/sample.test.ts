/** How a drill samples files: every size class represented, extremes first, reproducible, no repeats. */
import { describe, expect, it } from 'vitest';
import { FileSampler, seededRandom } from '../../src/drill/sample.js';

const file = (size: number, i: number) => ({ node: { size }, name: `f${i}` });
type File = ReturnType<typeof file>;

/** The drill's draw over a list: every file goes by the sampler once. */
function sampleFiles(files: readonly File[], n: number, random: () => number): File[] {
  const sampler = new FileSampler<File>(n, random);
  for (const f of files) sampler.add(f);
  return sampler.draw();
}

describe('the drill sample (FileSampler)', () => {
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

  it('draws as files go by: every file of a class can be drawn, the first ones no more often than the last', () => {
    // one class of 50 files (4 KiB to 8 KiB), 3 drawn: a reservoir that kept the first files only,
    // or favoured them, would show here
    const one = Array.from({ length: 50 }, (_, i) => file(4096 + i, i));
    const drawn = new Map<string, number>();
    for (let seed = 1; seed <= 2000; seed++) {
      for (const f of sampleFiles(one, 3, seededRandom(seed))) drawn.set(f.name, (drawn.get(f.name) ?? 0) + 1);
    }
    // expected 2000 * 3 / 50 = 120 draws each
    expect(drawn.size).toBe(50);
    for (const count of drawn.values()) expect(count).toBeGreaterThan(70);
    for (const count of drawn.values()) expect(count).toBeLessThan(170);
    const firstTen = one.slice(0, 10).reduce((n, f) => n + drawn.get(f.name)!, 0);
    const lastTen = one.slice(40).reduce((n, f) => n + drawn.get(f.name)!, 0);
    expect(Math.abs(firstTen - lastTen)).toBeLessThan(250); // 1,200 each expected
  });

  it('gives back every file when there are no more than asked for', () => {
    const few = [file(10, 1), file(5_000_000, 2), file(0, 3), file(12, 4)];
    expect(sampleFiles(few, 4, seededRandom(9)).map((f) => f.name).sort()).toEqual(['f1', 'f2', 'f3', 'f4']);
  });
});
