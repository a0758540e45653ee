/**
 * Restores written by the worker threads, which open blobs into reused memory: many files of
 * distinct content and decreasing sizes (a reused buffer holding a larger blob before a
 * smaller one), compressible and not, small files restored whole by a worker and large ones
 * spanning ranges, duplicates, various modes — restored byte for byte, with their modes and
 * times, by worker threads and inline alike. A damaged blob fails its file alone, and no
 * part file is left behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository } from '../../src/repository/repository.js';
import { packKey } from '../../src/repository/layout.js';
import { planItems } from '../../src/restorer/plan.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { cliOk } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, write } from '../helpers/tree.js';
import { backends, seededBytes, type Repo } from './support.js';

const MiB = 1024 * 1024;
function partFiles(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) => path.basename(p).startsWith('.coffre-'));
}

for (const backend of backends()) {
  describe.skipIf(backend.skipped)(`restores written by worker threads, on ${backend.name}`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir);
    let repo: Repo;

    const open = async (location: string, workers: number) => {
      const r = await Repository.open(await openStorage(location), Buffer.from(fs.readFileSync(pw, 'utf8').trim()), { workers });
      await r.loadIndex();
      return { r, root: (await r.findSnapshot('latest')).snapshot.tree };
    };

    beforeAll(async () => {
      await backend.setUp();
      // decreasing sizes, every file different, text and random bytes alternating
      for (let i = 0; i < 240; i++) {
        const size = 60_000 - i * 250 + (i % 7);
        const bytes = i % 2 === 0 ? csvText(size, 1000 + i) : seededBytes(size, 1000 + i);
        write(path.join(src, `d${i % 6}`, `f${String(i).padStart(3, '0')}`), bytes, [0o600, 0o640, 0o755][i % 3]);
      }
      write(path.join(src, 'd0/empty'), '');
      write(path.join(src, 'big/random.bin'), seededBytes(9 * MiB + 123, 7)); // spans several ranges
      write(path.join(src, 'big/text.csv'), csvText(7 * MiB, 8), 0o644);
      write(path.join(src, 'dup/copy-of-f001'), fs.readFileSync(path.join(src, 'd1/f001'))); // one blob, two files
      write(path.join(src, 'dup/copy-of-random.bin'), fs.readFileSync(path.join(src, 'big/random.bin')));
      repo = backend.newRepo('worker-writes');
      const args = ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, 'state')];
      await cliOk(['init', '--kdf', 'min', ...args]);
      await cliOk(['backup', ...args, src]);
    });
    afterAll(() => backend.tearDown());

    for (const workers of [2, 0]) {
      it(`restores every file byte for byte, with mode and mtime (${workers} worker threads)`, async () => {
        const { r, root } = await open(repo.location, workers);
        try {
          const target = path.join(dir, `all-${workers}`);
          const res = await restoreTree(r, root, { target });
          expect(res.failures).toEqual([]);
          expect(res.files).toBe(245);
          expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
          expect(partFiles(target)).toEqual([]);
        } finally {
          await r.close();
        }
      });
    }

    it('fails only the file whose blob is damaged, and leaves no part file of it', async () => {
      const damaged = await repo.copy('damaged');
      const victim = path.join(src, 'd3/f003');
      const { r, root } = await open(damaged.location, 2);
      try {
        const plan = await planItems(r, root, [victim]);
        const node = plan.files[0]!.node;
        expect(node.content).toHaveLength(1);
        const blob = r.index.lookup(node.content![0]!)!;
        const key = packKey(blob.packId);
        const bytes = await damaged.read(key);
        bytes[blob.offset + 40]! ^= 0x01;
        await damaged.overwrite(key, bytes);

        const target = path.join(dir, 'damaged');
        const res = await restoreTree(r, root, { target });
        expect(res.failures.map((f) => [f.path, f.object])).toEqual([[victim, key]]);
        expect(fs.existsSync(path.join(target, victim))).toBe(false);
        expect(partFiles(target)).toEqual([]);
        const expected = describeTree(src);
        expected.delete(path.relative(src, victim));
        expect(diffTrees(expected, describeTree(path.join(target, src)))).toEqual([]);
      } finally {
        await r.close();
      }
    });

    it('fails a file of many pieces whose last blob is damaged, after its other pieces were written, and leaves no part file', async () => {
      // text.csv's blobs may all sit in one range (a worker restores it whole); random.bin's
      // span several (the main thread's part file, written range by range). Damaging the last
      // piece lets every other piece be written before the damage is found; copy-of-random.bin
      // shares random.bin's blobs and fails with it.
      const damaged = await repo.copy('damaged-last');
      const victims = ['big/text.csv', 'big/random.bin'].map((p) => path.join(src, p));
      const { r, root } = await open(damaged.location, 2);
      try {
        const plan = await planItems(r, root, victims);
        const keys = new Set<string>();
        for (const f of plan.files) {
          expect(f.node.content!.length).toBeGreaterThan(1);
          const blob = r.index.lookup(f.node.content!.at(-1)!)!;
          const key = packKey(blob.packId);
          const bytes = await damaged.read(key);
          bytes[blob.offset + 40]! ^= 0x01;
          await damaged.overwrite(key, bytes);
          keys.add(key);
        }

        const target = path.join(dir, 'damaged-last');
        const res = await restoreTree(r, root, { target });
        const failed = [...victims, path.join(src, 'dup/copy-of-random.bin')];
        expect(res.failures.map((f) => f.path).sort()).toEqual([...failed].sort());
        for (const f of res.failures) expect(keys).toContain(f.object);
        for (const f of failed) expect(fs.existsSync(path.join(target, f))).toBe(false);
        expect(partFiles(target)).toEqual([]);
        const expected = describeTree(src);
        for (const f of failed) expected.delete(path.relative(src, f));
        expect(diffTrees(expected, describeTree(path.join(target, src)))).toEqual([]);
      } finally {
        await r.close();
      }
    });
  });
}
