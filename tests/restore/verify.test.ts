/**
 * `restore --verify` and drills read every restored file back (restorer/verify.ts): small
 * files with synchronous reads, larger ones with asynchronous reads. Both paths find a file
 * intact, a flipped byte in the piece that holds it, a wrong size, and a missing file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { planItems } from '../../src/restorer/plan.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { verifyFile } from '../../src/restorer/verify.js';
import { newLocalRepository } from '../helpers/local-repo.js';
import { csvText, seededBytes } from '../helpers/tree.js';

describe('verifying restored files', () => {
  it('finds intact, altered, resized and missing files, small and large', async () => {
    const { dir, repo } = await newLocalRepository({ workers: 1 });
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'small.csv'), csvText(20_000, 1));
    fs.writeFileSync(path.join(src, 'large.bin'), seededBytes(6 * 1024 * 1024 + 123, 2)); // several pieces
    try {
      const { snapshot } = await backup(repo, { paths: [src] });
      const out = path.join(dir, 'out');
      expect((await restoreTree(repo, snapshot.tree, { target: out })).failures).toEqual([]);
      const plan = await planItems(repo, snapshot.tree, []);
      const node = (name: string) => plan.files.find((f) => f.snapshotPath.endsWith(`/${name}`))!.node;
      const small = path.join(out, src, 'small.csv');
      const large = path.join(out, src, 'large.bin');
      expect(node('large.bin').content!.length).toBeGreaterThan(2);

      expect(await verifyFile(repo, small, node('small.csv'))).toBeUndefined();
      expect(await verifyFile(repo, large, node('large.bin'))).toBeUndefined();

      for (const [p, name] of [[small, 'small.csv'], [large, 'large.bin']] as const) {
        const bytes = fs.readFileSync(p);
        const at = bytes.length - 10; // in the last piece
        bytes[at]! ^= 1;
        fs.writeFileSync(p, bytes);
        const pieces = node(name).content!.length;
        expect(await verifyFile(repo, p, node(name))).toMatch(new RegExp(`^content differs in piece ${pieces} \\(offset \\d+\\)$`));
        fs.truncateSync(p, bytes.length - 1);
        expect(await verifyFile(repo, p, node(name))).toBe(`size ${bytes.length - 1}, expected ${bytes.length}`);
        fs.rmSync(p);
        expect(await verifyFile(repo, p, node(name))).toMatch(/^cannot open: ENOENT/);
      }
    } finally {
      await repo.close();
    }
  });
});
