/**
 * Which files a sampled drill restores. A uniform sample of a typical server is almost all
 * small files and would say little about the large ones (and the reverse for a sample by
 * bytes), so files are grouped by size class (powers of two) and drawn in turn from the
 * largest class, the smallest, the second largest, the second smallest, and so on: the
 * largest and the smallest files are both represented even in a small sample, and every
 * class gets its share. Within a class the draw is random, from a seed recorded in the
 * report so that a drill can be repeated exactly.
 * @module
 */

/** A small seeded PRNG (mulberry32): reproducible draws from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sizeClass(size: number): number {
  return size === 0 ? -1 : Math.floor(Math.log2(size));
}

export function sampleFiles<T extends { readonly node: { readonly size?: number } }>(files: readonly T[], n: number, random: () => number): T[] {
  if (n >= files.length) return [...files];
  const byClass = new Map<number, T[]>();
  for (const f of files) {
    const c = sizeClass(f.node.size ?? 0);
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(f);
  }
  const ascending = [...byClass.keys()].sort((a, b) => a - b);
  const turns: T[][] = [];
  for (let lo = 0, hi = ascending.length - 1; lo <= hi; lo++, hi--) {
    turns.push(byClass.get(ascending[hi]!)!);
    if (lo !== hi) turns.push(byClass.get(ascending[lo]!)!);
  }
  const chosen: T[] = [];
  while (chosen.length < n) {
    for (const pool of turns) {
      if (chosen.length >= n) break;
      if (pool.length === 0) continue;
      // Draw without replacement: swap a random element to the end and pop it.
      const i = Math.floor(random() * pool.length);
      [pool[i], pool[pool.length - 1]] = [pool[pool.length - 1]!, pool[i]!];
      chosen.push(pool.pop()!);
    }
  }
  return chosen;
}
