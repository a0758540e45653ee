/**
 * A worker that cannot write the pack it fills must stop the backup, not fail one file: once
 * the main thread has said "this blob is new, store it", other files may count on that blob,
 * and a snapshot naming a blob that was never stored would lose data silently. Also: the
 * private directory for packs on their way to S3 is refused when someone else could enter it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { StorageError, UsageError } from '../../src/domain/errors.js';
import { MemoryBlobIndex } from '../../src/repository/blob-index.js';
import { initRepository } from '../../src/repository/init.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../helpers/tmp.js';
import { seededBytes } from '../helpers/tree.js';

const pw = Buffer.from('pw');
const chunker = { minSize: 8192, avgSize: 16384, maxSize: 65536 };

async function repoWith(storage: (inner: LocalStorage) => Storage, workers: number): Promise<{ repo: Repository; src: string; inner: LocalStorage }> {
  const dir = tempDir();
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  // The same content twice: the second file counts on the blobs the first one claimed.
  for (const name of ['a.bin', 'b.bin']) fs.writeFileSync(path.join(src, name), seededBytes(200_000, 5));
  fs.writeFileSync(path.join(src, 'small.txt'), 'a small file');
  const inner = new LocalStorage(path.join(dir, 'repo'));
  await initRepository(inner, pw, { kdf: 'min', recoveryKey: false, chunker });
  const repo = await Repository.open(storage(inner), pw, { index: new MemoryBlobIndex(), workers });
  return { repo, src, inner };
}

describe('a pack file that cannot be written', () => {
  for (const workers of [0, 2]) {
    it(`stops the whole backup with a storage error and leaves no snapshot (${workers} worker threads)`, async () => {
      const gone = path.join(tempDir(), 'no-such-dir');
      const { repo, src, inner } = await repoWith((s) => Object.assign(Object.create(s) as Storage, { spoolDir: async () => gone }), workers);
      try {
        const run = backup(repo, { paths: [src] });
        await expect(run).rejects.toBeInstanceOf(StorageError);
        await expect(run).rejects.toThrow(/pack file in .*no-such-dir/);
        expect(fs.existsSync(path.join(inner.root, 'snapshots')) ? fs.readdirSync(path.join(inner.root, 'snapshots')) : []).toEqual([]);
      } finally {
        await repo.close();
      }
    });
  }
});

describe('the private spool directory under $TMPDIR', () => {
  const saved = process.env['TMPDIR'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  });

  it('is refused when others can enter it, and used when it is ours alone', async () => {
    const tmp = tempDir();
    process.env['TMPDIR'] = tmp;
    const spool = path.join(tmp, `coffre-spool-${process.getuid?.() ?? 0}`);
    fs.mkdirSync(spool, { mode: 0o777 });
    fs.chmodSync(spool, 0o777);
    // A storage without a spool directory of its own (as S3).
    const noSpool = (s: LocalStorage) => Object.assign(Object.create(s) as Storage, { spoolDir: undefined });
    const { repo, src } = await repoWith(noSpool, 0);
    try {
      await expect(backup(repo, { paths: [src] })).rejects.toBeInstanceOf(UsageError);
    } finally {
      await repo.close();
    }
    fs.chmodSync(spool, 0o700);
    const again = await repoWith(noSpool, 0);
    try {
      const r = await backup(again.repo, { paths: [again.src] });
      expect(r.failures).toEqual([]);
      expect(fs.readdirSync(spool)).toEqual([]); // every pack handed over and removed
    } finally {
      await again.repo.close();
    }
    expect(os.tmpdir()).toBe(tmp);
  });
});
