/** The read-only wrapper refuses every write before it reaches the server, and reads pass. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/domain/errors.js';
import { LocalStorage } from '../../src/storage/local.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { readOnly } from '../../src/storage/read-only.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { listAll, type Storage } from '../../src/storage/storage.js';
import { createTestBucket, s3TestEnv, type S3TestEnv } from '../helpers/s3-test-env.js';
import { expectKind } from './contract.js';

const env = s3TestEnv();

async function expectRefused(p: Promise<unknown>, location: string): Promise<void> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).kind).toBe('permission');
  expect((err as StorageError).message).toMatch(new RegExp(`^${location.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot .*: storage opened read-only$`));
}

/** `writable` holds 'config'; `ro` is the same storage opened read-only. */
async function checkReadOnly(writable: Storage, ro: Storage): Promise<void> {
  await expectRefused(ro.put('data/new', Buffer.from('x')), ro.location);
  await expectRefused(ro.delete('config'), ro.location);
  await expectKind(writable.stat('data/new'), 'not-found');
  expect((await writable.get('config')).toString()).toBe('cfg');
  expect((await ro.get('config')).toString()).toBe('cfg');
  expect((await ro.getRange('config', 1, 2)).toString()).toBe('fg');
  expect(await ro.stat('config')).toEqual({ key: 'config', size: 3 });
  expect((await listAll(ro, '')).map((o) => o.key)).toEqual(['config']);
}

describe('read-only wrapper', () => {
  it('on a local repository', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'coffre-ro-'));
    try {
      const local = new LocalStorage(dir);
      await local.create();
      await local.put('config', Buffer.from('cfg'));
      const ro = readOnly(local);
      expect(ro.extendRetention).toBeUndefined(); // nothing to pass through
      await checkReadOnly(local, ro);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!env)('on S3, as openStorage({ readOnly: true }) builds it', async () => {
    const e = env as S3TestEnv;
    const credentials = { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey };
    const bucket = await createTestBucket(e, { tag: 'ro' });
    try {
      const writable = await S3Storage.open(bucket.location, { credentials });
      await writable.put('config', Buffer.from('cfg'));
      const ro = await openStorage(bucket.location, { s3: { credentials }, readOnly: true });
      await checkReadOnly(writable, ro);
      await expectRefused(ro.extendRetention?.('config', { mode: 'compliance', until: new Date() }) ?? Promise.resolve(), ro.location);
      expect(await ro.objectLock?.()).toEqual({ enabled: false }); // reads pass through
      await Promise.all([writable.close(), ro.close()]);
    } finally {
      await bucket.destroy();
    }
  });
});
