/**
 * Tree entries are sorted by the bytes of their UTF-8 names (docs/FORMAT.md §9): the fast
 * string comparison must order every pair of names exactly as the byte comparison does,
 * characters beyond U+FFFF (surrogate pairs in JavaScript) included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNames } from '../../src/repository/tree.js';

const bytewise = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('compareNames', () => {
  it('orders any two names as their UTF-8 bytes do', () => {
    const name = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ maxLength: 12 }));
    fc.assert(fc.property(name, name, (a, b) => Math.sign(compareNames(a, b)) === bytewise(a, b)), { numRuns: 20_000 });
  });

  it('puts a private-use character (U+E000) before an emoji (U+1F642), unlike UTF-16 order', () => {
    expect(compareNames('\uE000', '🙂')).toBe(-1);
    expect('\uE000' < '🙂').toBe(false); // what a plain comparison would say, for contrast
    expect(compareNames('abc', 'abd')).toBe(-1);
    expect(compareNames('été', 'ete')).toBe(1);
    expect(compareNames('same', 'same')).toBe(0);
  });
});
