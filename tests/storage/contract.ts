/**
 * The Storage contract (src/storage/storage.ts) as one test suite, run against every backend
 * and wrapper: `storageContract('LocalStorage', async () => ({ storage }))`.
 * Each test gets a fresh, empty storage from the factory.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStorageError, type StorageErrorKind } from '../../src/domain/errors.js';
import { listAll, type Storage } from '../../src/storage/storage.js';

export interface ContractSubject {
  readonly storage: Storage;
  readonly cleanup?: () => Promise<void>;
}

export interface ContractOptions {
  /** Objects for the pagination test: above 1000, S3's page size. Default 1005. */
  readonly manyObjects?: number;
  /** Size of the large round-trip body. Default 6 MiB. */
  readonly bigBodyBytes?: number;
}

export function storageContract(name: string, make: () => Promise<ContractSubject>, opts: ContractOptions = {}): void {
  describe(`Storage contract: ${name}`, () => {
    let subject: ContractSubject;
    let s: Storage;
    beforeEach(async () => {
      subject = await make();
      s = subject.storage;
    });
    afterEach(async () => {
      await s.close();
      await subject.cleanup?.();
    });

    it('returns exactly the bytes put, for empty, small, view and multi-MiB bodies', async () => {
      const big = randomBytes(opts.bigBodyBytes ?? 6 * 1024 * 1024);
      const backing = Buffer.from('XXXXhello, viewYYYY');
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 11); // "hello, view"
      await s.put('t/empty', new Uint8Array(0));
      await s.put('t/small', Buffer.from('small object'));
      await s.put('t/view', view);
      await s.put('t/big', big);
      expect((await s.get('t/empty')).length).toBe(0);
      expect((await s.get('t/small')).toString()).toBe('small object');
      expect((await s.get('t/view')).toString()).toBe('hello, view');
      expect((await s.get('t/big')).equals(big)).toBe(true);
      expect(await s.stat('t/big')).toEqual({ key: 't/big', size: big.length });
      expect(await s.stat('t/empty')).toEqual({ key: 't/empty', size: 0 });
    });

    it('stores a file body (a spooled pack) byte for byte, and leaves the file to the caller', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const dir = (await s.spoolDir?.()) ?? fs.mkdtempSync(path.join(os.tmpdir(), 'coffre-spool-test-'));
      const file = path.join(dir, `contract-${randomBytes(6).toString('hex')}.tmp`);
      fs.writeFileSync(file, bytes, { mode: 0o600 });
      const body = { path: file, size: bytes.length, sha256: createHash('sha256').update(bytes).digest() };
      await s.put('data/fb/file-body', body);
      expect((await s.get('data/fb/file-body')).equals(bytes)).toBe(true);
      expect(await s.stat('data/fb/file-body')).toEqual({ key: 'data/fb/file-body', size: bytes.length });
      // Never overwrites, from a file either.
      await expectKind(s.put('data/fb/file-body', body), 'already-exists');
      // The caller's file is still there (the caller removes it); removing it keeps the object.
      expect(fs.existsSync(file)).toBe(true);
      fs.rmSync(file);
      expect((await s.get('data/fb/file-body')).equals(bytes)).toBe(true);
    });

    it('never overwrites: a second put of a key fails with already-exists and keeps the first', async () => {
      await s.put('snapshots/one', Buffer.from('first'));
      await expectKind(s.put('snapshots/one', Buffer.from('second, longer')), 'already-exists');
      expect((await s.get('snapshots/one')).toString()).toBe('first');
    });

    it('reports missing objects as not-found', async () => {
      await expectKind(s.get('data/missing'), 'not-found');
      await expectKind(s.getRange('data/missing', 0, 1), 'not-found');
      await expectKind(s.stat('data/missing'), 'not-found');
    });

    it('reads exact ranges and refuses ranges past the end', async () => {
      const body = randomBytes(1000);
      await s.put('packs/p', body);
      for (const [offset, length] of [[0, 1], [999, 1], [100, 300], [0, 1000], [1000, 0]] as const) {
        const got = await s.getRange('packs/p', offset, length);
        expect(got.equals(body.subarray(offset, offset + length)), `range ${offset}+${length}`).toBe(true);
      }
      await expectKind(s.getRange('packs/p', 990, 20), 'invalid-range');
      await expectKind(s.getRange('packs/p', 1000, 1), 'invalid-range');
      await expectKind(s.getRange('packs/p', 5000, 10), 'invalid-range');
    });

    it("returns bytes that are the caller's: overwriting what one read returned changes no later read", async () => {
      const body = randomBytes(1000);
      await s.put('packs/owned', body);
      for (const read of [() => s.get('packs/owned'), () => s.getRange('packs/owned', 100, 300)]) {
        const first = await read();
        const expected = Buffer.from(first);
        first.fill(0); // as a restore's in-place decryption does
        expect((await read()).equals(expected)).toBe(true);
      }
    });

    it('reads a range into a buffer the caller reuses, and never past the bytes asked for', async () => {
      const body = randomBytes(1000);
      await s.put('packs/into', body);
      const into = Buffer.alloc(600, 0xee);
      const first = await s.getRange('packs/into', 100, 300, into);
      expect(first.equals(body.subarray(100, 400))).toBe(true);
      expect(first.buffer).toBe(into.buffer); // read in place, no buffer of its own
      expect(into.subarray(300).every((b) => b === 0xee)).toBe(true);
      const second = await s.getRange('packs/into', 700, 200, into);
      expect(second.equals(body.subarray(700, 900))).toBe(true);
      // a buffer too small is not used: the range still comes back whole
      const big = await s.getRange('packs/into', 0, 1000, Buffer.alloc(10));
      expect(big.equals(body)).toBe(true);
      await expectKind(s.getRange('packs/into', 990, 20, into), 'invalid-range');
    });

    it('lists every key under a prefix exactly once, and nothing else', async () => {
      const keys = ['a/1', 'a/2', 'a/sub/3', 'ab/4', 'b/5', 'c'];
      await Promise.all(keys.map((k) => s.put(k, Buffer.from(k))));
      const keysOf = async (prefix: string) => (await listAll(s, prefix)).map((o) => o.key).sort();
      expect(await keysOf('a/')).toEqual(['a/1', 'a/2', 'a/sub/3']);
      expect(await keysOf('a')).toEqual(['a/1', 'a/2', 'a/sub/3', 'ab/4']);
      expect(await keysOf('')).toEqual(keys);
      expect(await keysOf('nothing/')).toEqual([]);
      const sizes = await listAll(s, 'a/sub/');
      expect(sizes).toEqual([{ key: 'a/sub/3', size: 'a/sub/3'.length }]);
    });

    it('lists more objects than one page holds, each once', async () => {
      const n = opts.manyObjects ?? 1005;
      const keys = Array.from({ length: n }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      await inBatches(keys, 32, (k) => s.put(k, Buffer.from(k.slice(5))));
      await s.put('other/x', Buffer.from('x'));
      const listed = (await listAll(s, 'many/')).map((o) => o.key);
      expect(listed.length).toBe(n);
      expect(new Set(listed).size).toBe(n);
      expect(listed.sort()).toEqual(keys);
    });

    it('deletes: the object is gone for get, stat and list', async () => {
      await s.put('locks/x', Buffer.from('x'));
      await s.put('locks/y', Buffer.from('y'));
      await s.delete('locks/x');
      await expectKind(s.get('locks/x'), 'not-found');
      await expectKind(s.stat('locks/x'), 'not-found');
      expect((await listAll(s, 'locks/')).map((o) => o.key)).toEqual(['locks/y']);
      // Deleting what is not there: success (S3) or not-found (local), never another failure.
      await s.delete('locks/x').catch((e: unknown) => expect(isStorageError(e, 'not-found')).toBe(true));
    });

    it('serves many concurrent puts and gets of distinct keys', async () => {
      const bodies = Array.from({ length: 24 }, (_, i) => randomBytes(1000 + i * 7919));
      await Promise.all(bodies.map((b, i) => s.put(`data/c${i}`, b)));
      const back = await Promise.all(bodies.map((_, i) => s.get(`data/c${i}`)));
      back.forEach((b, i) => expect(b.equals(bodies[i] ?? Buffer.alloc(0)), `data/c${i}`).toBe(true));
    });

    it('racing puts of one key: losers get already-exists, readers see one whole body', async () => {
      const bodies = Array.from({ length: 8 }, () => randomBytes(64 * 1024));
      const results = await Promise.allSettled(bodies.map((b) => s.put('index/race', b)));
      const winners = results.filter((r) => r.status === 'fulfilled').length;
      for (const r of results) if (r.status === 'rejected') expect(isStorageError(r.reason, 'already-exists')).toBe(true);
      // Only a server that enforces create-if-absent can promise a single winner.
      if (s.capabilities.atomicCreate) expect(winners).toBe(1);
      else expect(winners).toBeGreaterThanOrEqual(1);
      const stored = await s.get('index/race');
      expect(bodies.some((b) => b.equals(stored))).toBe(true);
    });
  });
}

export async function expectKind(p: Promise<unknown>, kind: StorageErrorKind): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a StorageError '${kind}'`).toBeDefined();
  expect(isStorageError(err) ? err.kind : err).toBe(kind);
}

async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}
