/**
 * Object Lock and never-overwrite on RGW, including the two RGW (Pacific) behaviours the S3
 * backend works around: If-None-Match ignored on versioned buckets, and Object Lock headers
 * ignored on CreateMultipartUpload. Buckets holding locked versions cannot be removed; they
 * die with the throwaway server.
 */
import { DeleteObjectCommand, GetObjectCommand, GetObjectRetentionCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { adminClient, createTestBucket, s3TestEnv, SKIPPED_S3 } from '../helpers/s3-test-env.js';
import { expectKind } from './contract.js';

const env = s3TestEnv();
const HOUR = 3600_000;

describe.skipIf(!env)('S3 Object Lock on RGW', () => {
  const e = env ?? SKIPPED_S3;
  const credentials = { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey };
  const multipart = { multipartThresholdBytes: 5 * 1024 * 1024 + 1, partSizeBytes: 5 * 1024 * 1024 };
  let admin: S3Client;
  beforeAll(() => {
    admin = adminClient(e);
  });
  afterAll(() => admin.destroy());

  const retentionOf = async (bucket: string, key: string) =>
    (await admin.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }))).Retention;

  it('writes compliance retention the server enforces; retention only ever grows', async () => {
    const bucket = await createTestBucket(e, { tag: 'lock', objectLock: true });
    const s = await S3Storage.open(bucket.location, { credentials });
    expect(await s.objectLock()).toEqual({ enabled: true });

    const body = randomBytes(40_000);
    const until = new Date(Date.now() + HOUR);
    await s.put('data/p1', body, { retention: { mode: 'compliance', until } });
    const set = await retentionOf(bucket.name, 'data/p1');
    expect(set?.Mode).toBe('COMPLIANCE');
    expect(Math.abs((set?.RetainUntilDate?.getTime() ?? 0) - until.getTime())).toBeLessThan(1000);

    const { VersionId } = await admin.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'data/p1' }));
    expect(VersionId).toBeTruthy();
    await expect(admin.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: 'data/p1', VersionId }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });

    const later = new Date(Date.now() + 2 * HOUR);
    await s.extendRetention('data/p1', { mode: 'compliance', until: later });
    const extended = (await retentionOf(bucket.name, 'data/p1'))?.RetainUntilDate?.getTime() ?? 0;
    expect(Math.abs(extended - later.getTime())).toBeLessThan(1000);
    // Asking for less (or for the weaker mode) changes nothing and is not an error.
    await s.extendRetention('data/p1', { mode: 'governance', until: new Date(Date.now() + HOUR / 2) });
    const kept = await retentionOf(bucket.name, 'data/p1');
    expect(kept?.Mode).toBe('COMPLIANCE');
    expect(kept?.RetainUntilDate?.getTime()).toBe(extended);
    await expectKind(s.extendRetention('data/missing', { mode: 'compliance', until: later }), 'not-found');

    // The wrappers openStorage puts around S3Storage pass both Object Lock methods through.
    const wrapped = await openStorage(bucket.location, { s3: { credentials } });
    expect(await wrapped.objectLock?.()).toEqual({ enabled: true });
    const latest = new Date(Date.now() + 3 * HOUR);
    await wrapped.extendRetention?.('data/p1', { mode: 'compliance', until: latest });
    const viaWrappers = (await retentionOf(bucket.name, 'data/p1'))?.RetainUntilDate?.getTime() ?? 0;
    expect(Math.abs(viaWrappers - latest.getTime())).toBeLessThan(1000);
    await wrapped.close();

    // A plain delete only hides the object behind a delete marker; the locked version stays.
    await s.delete('data/p1');
    await expectKind(s.get('data/p1'), 'not-found');
    const old = await admin.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'data/p1', VersionId }));
    expect(Buffer.from((await old.Body?.transformToByteArray()) ?? []).equals(body)).toBe(true);
    await s.close();
  });

  it('never overwrites on a versioned bucket, although RGW ignores If-None-Match there', async () => {
    const bucket = await createTestBucket(e, { tag: 'lockput', objectLock: true });
    const checked = await S3Storage.open(bucket.location, { credentials });
    await checked.put('snapshots/s1', Buffer.from('first'));
    await expectKind(checked.put('snapshots/s1', Buffer.from('second')), 'already-exists');
    expect((await checked.get('snapshots/s1')).toString()).toBe('first');

    // What 'check-first' protects against: trusting the header alone, RGW Pacific takes the
    // second put as a new version. If this starts failing, RGW enforces it now.
    const trusting = await S3Storage.open(bucket.location, { credentials, conditionalWrites: 'server' });
    await trusting.put('snapshots/s1', Buffer.from('second'));
    expect((await checked.get('snapshots/s1')).toString()).toBe('second');
    await Promise.all([checked.close(), trusting.close()]);
  });

  it('multipart uploads get their retention, although RGW ignores the lock headers on create', async () => {
    const bucket = await createTestBucket(e, { tag: 'lockmp', objectLock: true });
    const s = await S3Storage.open(bucket.location, { credentials, ...multipart });
    const body = randomBytes(6 * 1024 * 1024);
    await s.put('data/big', body, { retention: { mode: 'compliance', until: new Date(Date.now() + HOUR) } });
    expect((await retentionOf(bucket.name, 'data/big'))?.Mode).toBe('COMPLIANCE');
    expect((await s.get('data/big')).equals(body)).toBe(true);
    await s.close();
  });

  it('a bucket without Object Lock: objectLock() is false and retention puts are refused, storing nothing', async () => {
    const bucket = await createTestBucket(e, { tag: 'nolock' });
    try {
      const s = await S3Storage.open(bucket.location, { credentials, ...multipart });
      expect(await s.objectLock()).toEqual({ enabled: false });
      const retention = { mode: 'compliance', until: new Date(Date.now() + HOUR) } as const;
      await expect(s.put('data/small', Buffer.from('x'), { retention })).rejects.toMatchObject({
        kind: 'other',
        message: expect.stringContaining('does not have Object Lock enabled'),
      });
      await expect(s.put('data/big', randomBytes(6 * 1024 * 1024), { retention })).rejects.toMatchObject({
        message: expect.stringContaining('does not have Object Lock enabled'),
      });
      await expectKind(s.stat('data/small'), 'not-found');
      await expectKind(s.stat('data/big'), 'not-found');
      await s.close();
    } finally {
      await bucket.destroy();
    }
  });

  it('multipart never replaces an object, although RGW ignores If-None-Match on CompleteMultipartUpload', async () => {
    const bucket = await createTestBucket(e, { tag: 'mp' });
    try {
      const s = await S3Storage.open(bucket.location, { credentials, ...multipart, conditionalWrites: 'server' });
      const first = randomBytes(6 * 1024 * 1024);
      await s.put('data/big', first);
      await expectKind(s.put('data/big', randomBytes(6 * 1024 * 1024)), 'already-exists');
      expect((await s.get('data/big')).equals(first)).toBe(true);
      await s.close();
    } finally {
      await bucket.destroy();
    }
  });
});
