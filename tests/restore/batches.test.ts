/**
 * A restore works through the snapshot's files a batch at a time (restorer.ts,
 * RESTORE_BATCH_FILES), so that memory does not grow with the number of files. With batches of
 * a few files: content shared by files of different batches, files of several chunks, empty
 * files and links all come back byte for byte; the counts, bytes and progress cover every
 * batch; a second run skips what is in place and refuses a file that differs, once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { restoreTree, RESTORE_BATCH_FILES } from '../../src/restorer/restorer.js';
import { newLocalRepository } from '../helpers/local-repo.js';
import { csvText, describeTree, diffTrees, seededBytes } from '../helpers/tree.js';

const MiB = 1024 * 1024;

describe('restoring a batch of files at a time', () => {
  it('restores every batch byte for byte, counts them all, and resumes across batches', async () => {
    expect(RESTORE_BATCH_FILES).toBeGreaterThanOrEqual(1024); // the default keeps packs read once on a usual tree
    const { dir, repo } = await newLocalRepository({ workers: 2 });
    const src = path.join(dir, 'src');
    let files = 0;
    let bytes = 0;
    const put = (rel: string, data: Buffer) => {
      fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
      fs.writeFileSync(path.join(src, rel), data);
      files++;
      bytes += data.length;
    };
    for (let i = 0; i < 30; i++) put(`d${i % 4}/f${String(i).padStart(2, '0')}.csv`, csvText(2_000 + i * 311, i));
    // the same content in the first and the last directory: one blob for files of distant batches
    for (const d of ['a-first', 'z-last']) put(`${d}/same.csv`, csvText(9_000, 99));
    // files of several chunks
    for (let i = 0; i < 3; i++) put(`large/l${i}.bin`, seededBytes(3 * MiB + i * 4099, 500 + i));
    put('d1/empty', Buffer.alloc(0));
    fs.symlinkSync('d1/f01.csv', path.join(src, 'link'));
    try {
      const r = await backup(repo, { paths: [src] });
      const out = path.join(dir, 'out');
      const seen: number[] = [];
      const res = await restoreTree(repo, r.snapshot.tree, {
        target: out,
        verify: true,
        batchFiles: 4,
        events: { progress: (p) => seen.push(p.filesDone) },
      });
      expect(res.failures).toEqual([]);
      expect(res.files).toBe(files);
      expect(res.bytes).toBe(bytes);
      expect(res.verifiedFiles).toBe(files);
      expect(res.symlinks).toBe(1);
      expect(seen.at(-1)).toBe(files);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(diffTrees(describeTree(src), describeTree(path.join(out, src)))).toEqual([]);

      // again into the same place, in other batches: all in place, one file now differs
      const changed = path.join(out, src, 'd2', 'f06.csv');
      fs.writeFileSync(changed, 'not what was backed up');
      fs.rmSync(path.join(out, src, 'large', 'l1.bin'));
      const again = await restoreTree(repo, r.snapshot.tree, { target: out, batchFiles: 5 });
      expect(again.failures.map((f) => [path.basename(f.path), f.reason])).toEqual([['f06.csv', 'exists and differs (use --overwrite to replace it)']]);
      expect(again.skipped).toBe(files - 2);
      expect(again.bytes).toBe(3 * MiB + 4099);
      expect(fs.readFileSync(path.join(out, src, 'large', 'l1.bin')).equals(fs.readFileSync(path.join(src, 'large', 'l1.bin')))).toBe(true);
    } finally {
      await repo.close();
    }
  });
});
