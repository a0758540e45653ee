/**
 * Property: for any set of files, chunk → seal → pack → store → restore is the identity.
 * Runs the library API (what the CLI and the agent call) on real files and a real
 * local repository, with small chunk sizes so that small inputs still cross chunk and
 * pack boundaries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { LocalStorage } from '../../src/storage/local.js';
import { tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees } from '../helpers/tree.js';

describe('round trip (property)', () => {
  const dir = tempDir();
  const password = Buffer.from('pw');
  let repo: Repository;

  afterAll(async () => {
    await repo?.close();
  });

  it('restores any generated set of files identically', async () => {
    const storage = new LocalStorage(path.join(dir, 'repo'));
    await initRepository(storage, password, {
      kdf: 'min',
      chunker: { minSize: 1024, avgSize: 4096, maxSize: 16384 },
      packSize: 64 * 1024,
      recoveryKey: false,
    });
    repo = await Repository.open(storage, password, { workers: 1 });
    let run = 0;
    const file = fc.record({
      name: fc.stringMatching(/^[a-zA-Z0-9 ._éü-]{1,20}$/).filter((n) => n !== '.' && n !== '..'),
      sub: fc.constantFrom('', 'a', 'a/b'),
      // Repeated blocks make dedup across and within files happen.
      data: fc.oneof(fc.uint8Array({ maxLength: 40_000 }), fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((u) => Buffer.concat(Array(10).fill(Buffer.from(u))))),
    });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(file, { maxLength: 12, selector: (f) => `${f.sub}/${f.name}`.toLowerCase() }), async (files) => {
        const src = path.join(dir, `src-${++run}`);
        fs.mkdirSync(src);
        for (const f of files) {
          fs.mkdirSync(path.join(src, f.sub), { recursive: true });
          const p = path.join(src, f.sub, f.name);
          if (fs.existsSync(p)) continue; // a file name equal to a directory name
          fs.writeFileSync(p, f.data);
        }
        const result = await backup(repo, { paths: [src] });
        const target = path.join(dir, `out-${run}`);
        const restored = await restoreTree(repo, result.snapshot.tree, { target, verify: true });
        expect(restored.failures).toEqual([]);
        expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
