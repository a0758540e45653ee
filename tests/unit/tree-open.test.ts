/**
 * Trees of up to 64 KiB sealed are opened on the calling thread, larger ones in a worker
 * (workers/codec.ts, INLINE_OPEN_TREE_MAX). Both paths must verify what they open (DESIGN
 * invariant 3): a flipped byte, a tree presented under another id, or a data blob presented
 * as a tree is an IntegrityError naming where it came from, never a tree.
 */
import { describe, expect, it } from 'vitest';
import { newLocalRepository } from '../helpers/local-repo.js';
import { seededBytes } from '../helpers/tree.js';

describe('opening trees, on the calling thread and in a worker', () => {
  for (const [where, size] of [
    ['inline', 8 * 1024],
    ['worker', 200 * 1024],
  ] as const) {
    it(`verifies a ${where} tree: intact it opens, tampered or misnamed it is refused`, async () => {
      const { repo } = await newLocalRepository({ workers: 1 });
      try {
        const raw = seededBytes(size, size); // random: stays larger than 64 KiB when sealed
        const id = repo.blobId(raw);
        const sealed = await repo.codec.seal('tree', id, Buffer.from(raw));
        expect(sealed.length > 64 * 1024).toBe(where === 'worker');
        expect((await repo.codec.open('tree', id, Buffer.from(sealed), raw.length, 'pack p')).equals(raw)).toBe(true);

        const flipped = Buffer.from(sealed);
        flipped[flipped.length >> 1]! ^= 1;
        await expect(repo.codec.open('tree', id, flipped, raw.length, 'pack p')).rejects.toMatchObject({ objectKey: 'pack p' });
        const other = repo.blobId(seededBytes(16, 1));
        await expect(repo.codec.open('tree', other, Buffer.from(sealed), raw.length, 'pack p')).rejects.toMatchObject({ objectKey: 'pack p' });
        const data = await repo.codec.seal('data', id, Buffer.from(raw));
        await expect(repo.codec.open('tree', id, data, raw.length, 'pack p')).rejects.toMatchObject({ objectKey: 'pack p' });
      } finally {
        await repo.close();
      }
    });
  }
});
