/**
 * Snapshots, key files, audit entries and prune plans are ordered by their ISO-8601 times and
 * hex ids with a plain code-unit comparison (src/util/order.ts), not ICU's collation: it
 * must put times in time order and hex ids in the order of their bytes, as the collation did.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byCodeUnits } from '../../src/util/order.js';

describe('byCodeUnits', () => {
  it('orders toISOString() times as the times themselves', () => {
    const time = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
    fc.assert(
      fc.property(time, time, (a, b) => Math.sign(byCodeUnits(a.toISOString(), b.toISOString())) === Math.sign(a.getTime() - b.getTime())),
      { numRuns: 20_000 },
    );
  });

  it('orders lowercase hex ids as their bytes, and as the collation it replaces', () => {
    const id = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(id, id, (a, b) => {
        const [x, y] = [Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex')];
        const want = Math.sign(Buffer.compare(a, b));
        return Math.sign(byCodeUnits(x, y)) === want && Math.sign(x.localeCompare(y)) === want;
      }),
      { numRuns: 5_000 },
    );
    expect(byCodeUnits('0f', 'a0')).toBe(-1);
    expect(byCodeUnits('same', 'same')).toBe(0);
  });
});
