/**
 * What a restore reads, counted by a wrapper around the real storage (local and S3): one
 * small file costs a ranged read of about its blob, not of its 16 MiB pack; a whole
 * restore reads every needed pack byte once; and trees are read several at a time. And what
 * `check --read-data` reads: every pack byte once, its header included, and no more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/checker/checker.js';
import { Repository } from '../../src/repository/repository.js';
import { restoreTree } from '../../src/restorer/restorer.js';
import { openStorage } from '../../src/storage/open-storage.js';
import type { ObjectInfo, Storage } from '../../src/storage/storage.js';
import { cliOk } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees } from '../helpers/tree.js';
import { backends, inspect, seededBytes, sha256, type Repo } from './support.js';

const MiB = 1024 * 1024;

/** Counts bytes read per object and the reads in flight at once; passes everything through. */
class CountingStorage implements Storage {
  readonly read = new Map<string, number>();
  readonly requests = new Map<string, number>();
  wholeGets = 0;
  inflight = 0;
  maxInflight = 0;
  constructor(private readonly inner: Storage) {}
  get location() {
    return this.inner.location;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  private async count<T extends Buffer>(key: string, p: () => Promise<T>): Promise<T> {
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      const b = await p();
      this.read.set(key, (this.read.get(key) ?? 0) + b.length);
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
      return b;
    } finally {
      this.inflight--;
    }
  }
  put(key: string, body: Uint8Array) {
    return this.inner.put(key, body);
  }
  get(key: string) {
    if (key.startsWith('data/')) this.wholeGets++;
    return this.count(key, () => this.inner.get(key));
  }
  getRange(key: string, offset: number, length: number) {
    return this.count(key, () => this.inner.getRange(key, offset, length));
  }
  stat(key: string) {
    return this.inner.stat(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  close() {
    return this.inner.close();
  }
  dataBytes(): number {
    return [...this.read].filter(([k]) => k.startsWith('data/')).reduce((n, [, v]) => n + v, 0);
  }
}

for (const backend of backends()) {
  describe.skipIf(backend.skipped)(`what a restore reads on ${backend.name}`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir);
    let repo: Repo;

    const open = async () => {
      const counting = new CountingStorage(await openStorage(repo.location));
      const r = await Repository.open(counting, Buffer.from(fs.readFileSync(pw, 'utf8').trim()), { workers: 0 });
      await r.loadIndex();
      return { counting, r, root: (await r.findSnapshot('latest')).snapshot.tree };
    };

    beforeAll(async () => {
      await backend.setUp();
      fs.mkdirSync(path.join(src, 'big'), { recursive: true });
      fs.writeFileSync(path.join(src, 'big/scan.bin'), seededBytes(30 * MiB, 3));
      for (let d = 0; d < 20; d++) {
        for (let i = 0; i < 5; i++) {
          fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
          fs.writeFileSync(path.join(src, `d${d}`, `f${i}.txt`), seededBytes(3000 + d * 100 + i, d * 10 + i));
        }
      }
      repo = backend.newRepo('ranges');
      const args = ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, 'state')];
      await cliOk(['init', '--kdf', 'min', ...args]);
      await cliOk(['backup', ...args, src]);
    });
    afterAll(() => backend.tearDown());

    it('restores one small file with a ranged read of about its size', async () => {
      const { counting, r, root } = await open();
      try {
        const one = path.join(src, 'd7/f3.txt');
        const target = path.join(dir, 'one');
        const res = await restoreTree(r, root, { target, include: [one] });
        expect(res.failures).toEqual([]);
        expect(sha256(path.join(target, one))).toBe(sha256(one));
        expect(counting.wholeGets).toBe(0);
        expect(counting.dataBytes()).toBeLessThan(64 * 1024); // a few KiB of trees and one blob, not a 16 MiB pack
      } finally {
        await r.close();
        await counting.close();
      }
    });

    it('reads every needed byte of every data pack once for a whole restore, trees several at a time', async () => {
      const { counting, r, root } = await open();
      try {
        const target = path.join(dir, 'all');
        const res = await restoreTree(r, root, { target });
        expect(res.failures).toEqual([]);
        expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
        // File data: every byte at most once. Trees: a few exact reads, then blocks of the same pack.
        const { packs } = await inspect(repo.location, pw);
        for (const [key, n] of counting.read) {
          const p = packs.find((x) => x.key === key);
          if (!p) continue;
          expect(n, key).toBeLessThanOrEqual(p.types.has('tree') ? 2 * p.size : p.size);
        }
        // Trees: 8 exact reads, then the pack in 1 MiB blocks — far fewer requests than directories.
        const treeRequests = packs.filter((p) => p.types.has('tree')).reduce((n, p) => n + (counting.requests.get(p.key) ?? 0), 0);
        expect(res.dirs).toBeGreaterThan(20);
        expect(treeRequests).toBeLessThanOrEqual(10);
        expect(counting.maxInflight).toBeGreaterThan(1);
      } finally {
        await r.close();
        await counting.close();
      }
    });

    it('check --read-data reads every pack byte exactly once, the header with the last piece', async () => {
      const { counting, r } = await open();
      try {
        const res = await checkRepository(r, { readData: true });
        expect(res.ok).toBe(true);
        const { packs } = await inspect(repo.location, pw);
        expect(res.packsRead).toBe(packs.length);
        for (const p of packs) {
          // Tree packs were also read to walk the snapshots; data packs only by the check, whose
          // pieces run to the pack's end: reading the header apart would count its bytes twice.
          if (p.types.has('tree')) continue;
          expect(counting.read.get(p.key), p.key).toBe(p.size);
        }
      } finally {
        await r.close();
        await counting.close();
      }
    });
  });
}
