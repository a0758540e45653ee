/**
 * The failures an admin meets first — wrong keys, a missing bucket, an unreachable endpoint,
 * a careless credentials file — each as one clear StorageError (or SecretFileError) line.
 */
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretFileError, StorageError, UsageError } from '../../src/domain/errors.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { createTestBucket, s3TestEnv, uniqueBucketName, SKIPPED_S3, type TestBucket } from '../helpers/s3-test-env.js';

const env = s3TestEnv();

async function failure(p: Promise<unknown>): Promise<StorageError> {
  const err = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).message).not.toContain('\n');
  return err as StorageError;
}

describe.skipIf(!env)('S3 errors an admin can meet', () => {
  const e = env ?? SKIPPED_S3;
  const credentials = { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey };
  const host = new URL(e.endpoint).host;
  let bucket: TestBucket;
  let tmp: string;

  beforeAll(async () => {
    bucket = await createTestBucket(e, { tag: 'errors' });
    const s = await S3Storage.open(bucket.location, { credentials });
    await s.put('config', Buffer.from('repository config'));
    await s.close();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'coffre-s3-errors-'));
  });
  afterAll(async () => {
    await bucket.destroy();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('a wrong secret key: permission, named, and no secret in the message', async () => {
    const wrong = 'wrong-secret-0123456789abcdef';
    const s = await S3Storage.open(bucket.location, { credentials: { accessKeyId: e.accessKeyId, secretAccessKey: wrong } });
    const err = await failure(s.get('config'));
    expect(err.kind).toBe('permission');
    expect(err.message).toBe(
      `s3 ${host}/${bucket.name}/config: access denied: the secret access key is wrong (SignatureDoesNotMatch, HTTP 403)`,
    );
    expect(err.message).not.toContain(wrong);
    await s.close();
  });

  it('an unknown access key id: permission, for GET and for HEAD (which has no error body)', async () => {
    const s = await S3Storage.open(bucket.location, { credentials: { accessKeyId: 'NOSUCHKEY0000', secretAccessKey: 'x'.repeat(40) } });
    expect((await failure(s.get('config'))).message).toContain('the access key id is unknown to the server (InvalidAccessKeyId, HTTP 403)');
    const head = await failure(s.stat('config'));
    expect(head.kind).toBe('permission');
    expect(head.message).toContain('HTTP 403');
    await s.close();
  });

  it('a missing bucket: a failure (not an absent object), saying it is the bucket, from get, stat, list and put', async () => {
    const missing = uniqueBucketName('missing');
    const s = await S3Storage.open(`s3:${e.endpoint}/${missing}`, { credentials });
    const fromGet = await failure(s.get('config'));
    expect(fromGet.kind).toBe('other');
    expect(fromGet.message).toBe(`s3 ${host}/${missing}/config: the bucket does not exist (NoSuchBucket, HTTP 404)`);
    const fromStat = await failure(s.stat('config'));
    expect(fromStat.kind).toBe('other');
    expect(fromStat.message).toBe(`s3 ${host}/${missing}: the bucket does not exist (NoSuchBucket, HTTP 404)`);
    expect((await failure(s.list('')[Symbol.asyncIterator]().next())).message).toContain('the bucket does not exist');
    expect((await failure(s.put('data/x', Buffer.from('x')))).message).toContain('the bucket does not exist');
    await s.close();
  });

  it('a missing object in an existing bucket is just that', async () => {
    const s = await S3Storage.open(bucket.location, { credentials });
    expect((await failure(s.stat('nope'))).message).toBe(`s3 ${host}/${bucket.name}/nope: no such object (NotFound, HTTP 404)`);
    expect((await failure(s.get('nope'))).message).toBe(`s3 ${host}/${bucket.name}/nope: no such object (NoSuchKey, HTTP 404)`);
    await s.close();
  });

  it('an unreachable endpoint: transient, fast, and retried a bounded number of times', async () => {
    const port = await closedPort();
    const s = await S3Storage.open(`s3:http://127.0.0.1:${port}/repo`, { credentials });
    const started = Date.now();
    const err = await failure(s.get('config'));
    expect(err.kind).toBe('transient');
    expect(err.message).toBe(`s3 127.0.0.1:${port}/repo/config: cannot connect to the S3 endpoint: connection refused (ECONNREFUSED)`);
    const retried = await openStorage(`s3:http://127.0.0.1:${port}/repo`, {
      s3: { credentials },
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    expect((await failure(retried.get('config'))).message).toMatch(/connection refused \(ECONNREFUSED\) \(gave up after 2 attempts\)$/);
    expect(Date.now() - started).toBeLessThan(3000);
    await s.close();
    await retried.close();
  });

  it('credential files: used when private, refused when group/other-readable', async () => {
    const idFile = path.join(tmp, 'access-key-id');
    const secretFile = path.join(tmp, 'secret-access-key');
    await fs.writeFile(idFile, `${e.accessKeyId}\n`, { mode: 0o600 });
    await fs.writeFile(secretFile, `${e.secretAccessKey}\n`, { mode: 0o644 });
    const files = { accessKeyIdFile: idFile, secretAccessKeyFile: secretFile };

    const refused = await S3Storage.open(bucket.location, files).catch((x: unknown) => x);
    expect(refused).toBeInstanceOf(SecretFileError);
    expect((refused as Error).message).toBe(
      `S3 secret access key file ${secretFile} is readable by group or others (mode 0644)`,
    );

    await fs.chmod(secretFile, 0o600);
    const s = await S3Storage.open(bucket.location, files);
    expect((await s.get('config')).toString()).toBe('repository config');
    await s.close();

    await expect(S3Storage.open(bucket.location, { accessKeyIdFile: idFile })).rejects.toBeInstanceOf(UsageError);
    await expect(S3Storage.open(bucket.location, { ...files, accessKeyIdFile: path.join(tmp, 'absent') })).rejects.toThrow(
      /cannot read S3 access key id file \S*absent: ENOENT/,
    );
  });
});

/** A port nobody listens on: bind, note it, close. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
