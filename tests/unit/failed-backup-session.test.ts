/**
 * A backup that fails half-way in a long-lived process (the agent without a catalog) must
 * not leave the next backup deduplicating against packs that no index object names: the
 * snapshot would then reference blobs a fresh machine cannot find.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { checkRepository } from '../../src/checker/checker.js';
import { StorageError } from '../../src/domain/errors.js';
import { MemoryBlobIndex } from '../../src/repository/blob-index.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { LocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees } from '../helpers/tree.js';

/** Lets `allowed` writes through, then refuses every write until `heal()`. */
function failingAfter(inner: Storage, allowed: number): Storage & { heal(): void } {
  let left = allowed;
  let healed = false;
  return Object.assign(Object.create(inner) as Storage, {
    put: async (key: string, body: Uint8Array) => {
      if (!healed && left-- <= 0) throw new StorageError('other', `${key}: refused (test)`);
      return inner.put(key, body);
    },
    heal: () => void (healed = true),
  });
}

describe('a failed backup in a long-lived process', () => {
  it('leaves the next backup referencing only indexed packs', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(src, `f${i}.bin`), randomBytes(60_000));
    const inner = new LocalStorage(path.join(dir, 'repo'));
    const pw = Buffer.from('pw');
    await initRepository(inner, pw, { kdf: 'min', recoveryKey: false, packSize: 64 * 1024, chunker: { minSize: 8192, avgSize: 16384, maxSize: 65536 } });
    const storage = failingAfter(inner, 3);
    const repo = await Repository.open(storage, pw, { index: new MemoryBlobIndex(), workers: 0 });
    try {
      await repo.loadIndex();
      await expect(backup(repo, { paths: [src] })).rejects.toThrow(/refused \(test\)/);
      storage.heal();
      await repo.loadIndex();
      const ok = await backup(repo, { paths: [src] });

      // A fresh machine: only what index objects say.
      const fresh = await Repository.open(inner, pw, { index: new MemoryBlobIndex(), workers: 0 });
      try {
        await fresh.loadIndex();
        const check = await checkRepository(fresh, {});
        expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
        const target = path.join(dir, 'out');
        const r = await restoreTree(fresh, ok.snapshot.tree, { target, verify: true });
        expect(r.failures).toEqual([]);
        expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
      } finally {
        await fresh.close();
      }
    } finally {
      await repo.close();
    }
  });
});
