/**
 * `restore --tar` walks the snapshot as it writes the archive, a batch of files at a time
 * (tar.ts): the archive is the same byte for byte whatever the batch size, across
 * directories, files of several chunks, empty files and links.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { walkItems } from '../../src/restorer/plan.js';
import { writeTar } from '../../src/restorer/tar.js';
import { newLocalRepository } from '../helpers/local-repo.js';
import { csvText, seededBytes } from '../helpers/tree.js';

function collector(): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

describe('tar output in batches', () => {
  it('writes the same archive whatever the batch size', async () => {
    const { dir, repo } = await newLocalRepository({ workers: 1 });
    const src = path.join(dir, 'src');
    for (let i = 0; i < 9; i++) {
      fs.mkdirSync(path.join(src, `d${i % 3}`), { recursive: true });
      fs.writeFileSync(path.join(src, `d${i % 3}`, `f${i}.csv`), csvText(500 + 97 * i, i));
    }
    fs.writeFileSync(path.join(src, 'd1', 'empty'), '');
    fs.writeFileSync(path.join(src, 'large.bin'), seededBytes(3 * 1024 * 1024 + 17, 5));
    fs.symlinkSync('d0/f0.csv', path.join(src, 'link'));
    try {
      const { snapshot } = await backup(repo, { paths: [src] });
      const archives: Buffer[] = [];
      for (const batchFiles of [4096, 2, 1]) {
        const c = collector();
        const r = await writeTar(repo, walkItems(repo, snapshot.tree, []), c.out, { batchFiles });
        expect(r.failures).toEqual([]);
        expect(r.files).toBe(11);
        expect(r.symlinks).toBe(1);
        expect(r.bytes).toBe(fs.readdirSync(src, { recursive: true }).reduce((n, rel) => {
          const st = fs.lstatSync(path.join(src, String(rel)));
          return n + (st.isFile() ? st.size : 0);
        }, 0));
        archives.push(c.bytes());
      }
      expect(archives[0]!.length).toBeGreaterThan(3 * 1024 * 1024);
      expect(archives[1]!.equals(archives[0]!)).toBe(true);
      expect(archives[2]!.equals(archives[0]!)).toBe(true);
    } finally {
      await repo.close();
    }
  });
});
