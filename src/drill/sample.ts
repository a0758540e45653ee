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

/** What a sampled file needs: its size. */
type Sized = { readonly node: { readonly size?: number } };

/**
 * The sample drawn as files go by, so that a drill need not hold a snapshot's every file:
 * each size class keeps a uniform reservoir of at most `n` files (all a draw can take from
 * it), then the draw goes through the classes as described above. Within a class every
 * n-subset is as likely as with the whole list at hand; the reservoirs use the same seeded
 * generator, so the same walk and seed give the same sample.
 */
export class FileSampler<T extends Sized> {
  private readonly byClass = new Map<number, { seen: number; kept: T[] }>();
  private total = 0;

  constructor(
    private readonly n: number,
    private readonly random: () => number,
  ) {}

  add(f: T): void {
    this.total++;
    const c = sizeClass(f.node.size ?? 0);
    let cls = this.byClass.get(c);
    if (!cls) this.byClass.set(c, (cls = { seen: 0, kept: [] }));
    cls.seen++;
    if (cls.kept.length < this.n) cls.kept.push(f);
    else {
      const j = Math.floor(this.random() * cls.seen);
      if (j < this.n) cls.kept[j] = f;
    }
  }

  /** The sample: every file when there are no more than `n` (each class then kept them all). */
  draw(): T[] {
    if (this.total <= this.n) return [...this.byClass.values()].flatMap((c) => c.kept);
    const ascending = [...this.byClass.keys()].sort((a, b) => a - b);
    const turns: T[][] = [];
    for (let lo = 0, hi = ascending.length - 1; lo <= hi; lo++, hi--) {
      turns.push(this.byClass.get(ascending[hi]!)!.kept);
      if (lo !== hi) turns.push(this.byClass.get(ascending[lo]!)!.kept);
    }
    const chosen: T[] = [];
    while (chosen.length < this.n) {
      for (const pool of turns) {
        if (chosen.length >= this.n) break;
        if (pool.length === 0) continue;
        // Draw without replacement: swap a random element to the end and pop it.
        const i = Math.floor(this.random() * pool.length);
        [pool[i], pool[pool.length - 1]] = [pool[pool.length - 1]!, pool[i]!];
        chosen.push(pool.pop()!);
      }
    }
    return chosen;
  }
}
