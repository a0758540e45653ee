/**
 * S3Storage and the retry wrapper behind a proxy that resets, stalls, truncates and answers
 * 503: transfers either complete bit-exactly or fail with one clear transient error.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStorageError, type StorageError } from '../../src/domain/errors.js';
import { withRetry, type RetryEvent } from '../../src/storage/retry.js';
import { S3Storage, type S3StorageOptions } from '../../src/storage/s3/s3-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { FaultProxy, seededRandom, type Fault } from '../helpers/fault-proxy.js';
import { createTestBucket, s3TestEnv, SKIPPED_S3, type TestBucket } from '../helpers/s3-test-env.js';

const env = s3TestEnv();
const KiB = 1024;

describe.skipIf(!env)('S3 through a faulty network', () => {
  const e = env ?? SKIPPED_S3;
  const credentials = { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey };
  let bucket: TestBucket;
  let proxy: FaultProxy;
  let direct: S3Storage;
  const open: Storage[] = [];

  beforeEach(async () => {
    bucket = await createTestBucket(e, { tag: 'faults' });
    proxy = await FaultProxy.start(e.endpoint);
    direct = await S3Storage.open(bucket.location, { credentials });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await direct.close();
    await proxy.close();
    await bucket.destroy();
  });

  /** S3Storage reaching the bucket through the proxy. */
  const viaProxy = async (opts: S3StorageOptions = {}) => {
    const s = await S3Storage.open(`s3:${proxy.endpoint}/${bucket.name}`, { credentials, ...opts });
    open.push(s);
    return s;
  };
  const retrying = (inner: Storage, events: RetryEvent[], maxAttempts = 8) =>
    withRetry(inner, { maxAttempts, baseDelayMs: 1, maxDelayMs: 20, onRetry: (ev) => events.push(ev) });
  const firstThen = (first: Fault): ((n: number) => Fault) => (n) => (n === 0 ? first : { kind: 'pass' });

  it('completes uploads and downloads bit-exactly while connections break every few hundred KiB', async () => {
    const rnd = seededRandom(20261129);
    proxy.plan = () => ({ kind: 'reset', afterBytes: Math.floor(128 * KiB + rnd() * 896 * KiB) });
    const events: RetryEvent[] = [];
    const s = retrying(await viaProxy(), events, 40);

    const bodies = Array.from({ length: 12 }, () => randomBytes(Math.floor(64 * KiB + rnd() * 320 * KiB)));
    await Promise.all(bodies.map((b, i) => s.put(`data/${i}`, b)));
    for (const [i, b] of bodies.entries()) {
      expect((await s.get(`data/${i}`)).equals(b), `get data/${i}`).toBe(true);
      expect((await direct.get(`data/${i}`)).equals(b), `stored data/${i}`).toBe(true);
    }
    // A 3 MiB pack read back in 256 KiB ranges, the way a restore reads blobs.
    const pack = randomBytes(3 * 1024 * KiB);
    await direct.put('data/pack', pack);
    const pieces: Buffer[] = [];
    for (let off = 0; off < pack.length; off += 256 * KiB) pieces.push(await s.getRange('data/pack', off, 256 * KiB));
    expect(Buffer.concat(pieces).equals(pack)).toBe(true);

    expect(proxy.stats.faults).toBeGreaterThanOrEqual(10);
    expect(events.length).toBeGreaterThanOrEqual(10);
    expect(events.every((ev) => ev.error.kind === 'transient')).toBe(true);
  });

  for (const conditionalWrites of ['check-first', 'server'] as const) {
    it(`a put whose answer was lost is reported as done, not as already-exists (${conditionalWrites})`, async () => {
      proxy.plan = firstThen({ kind: 'drop-response' });
      const inner = await viaProxy({ conditionalWrites });
      const events: RetryEvent[] = [];
      const body = randomBytes(100 * KiB);
      await retrying(inner, events).put('snapshots/s1', body);
      expect(events.map((ev) => ev.op)).toEqual(['put']);
      expect((await direct.get('snapshots/s1')).equals(body)).toBe(true);
      // …but a different body under that name is still refused.
      await expect(retrying(inner, []).put('snapshots/s1', randomBytes(10))).rejects.toMatchObject({ kind: 'already-exists' });
    });
  }

  it('a body damaged on the way up is refused by the server (signed SHA-256), then sent again intact', async () => {
    const body = randomBytes(300 * KiB);
    proxy.plan = firstThen({ kind: 'corrupt-request', atByte: 200 * KiB }); // well past the headers
    const events: RetryEvent[] = [];
    // conditionalWrites 'server': the PutObject is the first request on the connection.
    await retrying(await viaProxy({ conditionalWrites: 'server' }), events).put('data/bitflip', body);
    expect(proxy.stats.faults).toBe(1);
    expect(events.map((ev) => ev.error.message)).toEqual([expect.stringContaining('(XAmzContentSHA256Mismatch, HTTP 400)')]);
    expect((await direct.get('data/bitflip')).equals(body)).toBe(true);
  });

  it('a stalled connection times out as transient, and a retry completes', async () => {
    const body = randomBytes(512 * KiB);
    await direct.put('data/stall', body);
    for (const afterBytes of [0, 64 * KiB]) {
      proxy.plan = firstThen({ kind: 'stall', afterBytes });
      proxy.stats.connections = 0;
      const started = Date.now();
      const err = await (await viaProxy({ idleTimeoutMs: 500, requestTimeoutMs: 2000 })).get('data/stall').catch((x: unknown) => x);
      expect(isStorageError(err, 'transient'), String(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);

      proxy.stats.connections = 0;
      const events: RetryEvent[] = [];
      const s = retrying(await viaProxy({ idleTimeoutMs: 500, requestTimeoutMs: 2000 }), events);
      expect((await s.get('data/stall')).equals(body)).toBe(true);
      expect(events).toHaveLength(1);
    }
  });

  it('a truncated response is a transient error, never short data', async () => {
    const body = randomBytes(200 * KiB);
    await direct.put('data/trunc', body);
    proxy.plan = firstThen({ kind: 'truncate', afterBytes: 10_000 });
    await expect((await viaProxy()).get('data/trunc')).rejects.toMatchObject({ kind: 'transient' });

    proxy.plan = firstThen({ kind: 'truncate', afterBytes: 10_000 });
    proxy.stats.connections = 0;
    const events: RetryEvent[] = [];
    expect((await retrying(await viaProxy(), events).get('data/trunc')).equals(body)).toBe(true);
    expect(events).toHaveLength(1);
  });

  it('503 SlowDown is retried until the server answers', async () => {
    proxy.plan = (n) => (n < 2 ? { kind: 'respond', status: 503, code: 'SlowDown' } : { kind: 'pass' });
    const events: RetryEvent[] = [];
    await retrying(await viaProxy(), events).put('data/slow', Buffer.from('eventually'));
    expect(events.map((ev) => ev.attempt)).toEqual([1, 2]);
    // The first request of a check-first put is a HEAD, whose error answers carry no body.
    expect(events[0]?.error.message).toContain('HTTP 503)');
    expect((await direct.get('data/slow')).toString()).toBe('eventually');
  });

  it('a permanent failure ends in one clear line', async () => {
    proxy.plan = () => ({ kind: 'respond', status: 503, code: 'SlowDown' });
    const err = (await retrying(await viaProxy(), [], 3)
      .get('data/never')
      .catch((x: unknown) => x)) as StorageError;
    expect(err.kind).toBe('transient');
    expect(err.message).toBe(
      `s3 ${new URL(proxy.endpoint).host}/${bucket.name}/data/never: the server is busy or failing, worth retrying (SlowDown, HTTP 503) (gave up after 3 attempts)`,
    );
    expect(err.message).not.toContain(e.secretAccessKey);
  });

  it('clock skew is named as such', async () => {
    proxy.plan = () => ({ kind: 'respond', status: 403, code: 'RequestTimeTooSkewed' });
    const err = (await (await viaProxy()).get('config').catch((x: unknown) => x)) as StorageError;
    expect(err.kind).toBe('permission');
    expect(err.message).toMatch(/clock skew/);
    expect(err.message).toContain('RequestTimeTooSkewed, HTTP 403');
  });
});
