/** The retry wrapper: what it retries, how long it waits, and how it treats repeated effects. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/domain/errors.js';
import { LocalStorage } from '../../src/storage/local.js';
import { withRetry, type RetryEvent, type RetryOptions } from '../../src/storage/retry.js';
import { listAll } from '../../src/storage/storage.js';
import { FlakyStorage } from '../helpers/flaky-storage.js';
import { expectKind } from './contract.js';

describe('retry wrapper', () => {
  let dir: string;
  let flaky: FlakyStorage;
  let events: RetryEvent[];
  let sleeps: number[];

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'coffre-retry-'));
    const local = new LocalStorage(dir);
    await local.create();
    flaky = new FlakyStorage(local);
    events = [];
    sleeps = [];
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const retrying = (opts: RetryOptions = {}) =>
    withRetry(flaky, {
      baseDelayMs: 100,
      maxDelayMs: 1000,
      maxAttempts: 5,
      sleep: async (ms) => void sleeps.push(ms),
      onRetry: (ev) => events.push(ev),
      ...opts,
    });

  it('retries transient failures with growing, jittered, capped delays', async () => {
    await flaky.put('k', Buffer.from('v'));
    flaky.failNext('get', { times: 4 });
    const s = retrying({ random: () => 1, maxAttempts: 5 });
    expect((await s.get('k')).toString()).toBe('v');
    expect(flaky.calls.get).toBe(5);
    expect(sleeps).toEqual([100, 200, 400, 800]);
    expect(events.map((ev) => [ev.op, ev.key, ev.attempt])).toEqual([
      ['get', 'k', 1],
      ['get', 'k', 2],
      ['get', 'k', 3],
      ['get', 'k', 4],
    ]);

    sleeps.length = 0;
    flaky.failNext('get', { times: 4 });
    await retrying({ random: () => 0, maxAttempts: 5, baseDelayMs: 300 }).get('k');
    // Half of each step is fixed (never an instant retry); the cap bounds the step.
    expect(sleeps).toEqual([150, 300, 500, 500]);
  });

  it('does not retry failures that are not transient', async () => {
    flaky.failNext('stat', { times: 1, kind: 'permission' });
    await expectKind(retrying().stat('k'), 'permission');
    await expectKind(retrying().get('missing'), 'not-found');
    expect(flaky.calls.stat + flaky.calls.get).toBe(2);
    expect(events).toEqual([]);
  });

  it('gives up after maxAttempts with one line that says so', async () => {
    flaky.failNext('getRange', { times: 10 });
    const err = (await retrying({ maxAttempts: 3 })
      .getRange('packs/p', 0, 10)
      .catch((x: unknown) => x)) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.kind).toBe('transient');
    expect(err.message).toBe('packs/p: injected transient failure of getRange (gave up after 3 attempts)');
    expect(flaky.calls.getRange).toBe(3);
  });

  it('a put that landed before its answer was lost succeeds on retry', async () => {
    flaky.failNext('put', { times: 1, when: 'after' });
    await retrying().put('data/a', Buffer.from('content'));
    expect(flaky.calls.put).toBe(2);
    expect(events).toHaveLength(1);
    expect((await flaky.get('data/a')).toString()).toBe('content');
  });

  it('…but an existing object with other bytes is still already-exists', async () => {
    await flaky.put('data/a', Buffer.from('someone else'));
    flaky.failNext('put', { times: 1, when: 'before' });
    await expectKind(retrying().put('data/a', Buffer.from('content')), 'already-exists');
    // without an earlier transient failure, no read-back happens at all
    const getsBefore = flaky.calls.get;
    await expectKind(retrying().put('data/a', Buffer.from('someone else')), 'already-exists');
    expect(flaky.calls.get).toBe(getsBefore);
  });

  it('a delete that landed before its answer was lost succeeds on retry', async () => {
    await flaky.put('locks/l', Buffer.from('x'));
    flaky.failNext('delete', { times: 1, when: 'after' });
    await retrying().delete('locks/l');
    await expectKind(flaky.stat('locks/l'), 'not-found');
    await expectKind(retrying().delete('locks/l'), 'not-found'); // no earlier failure: reported as is
  });

  it('a listing that breaks half-way is restarted and yields each key once', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `index/${String(i).padStart(2, '0')}`);
    for (const k of keys) await flaky.put(k, Buffer.from(k));
    flaky.failNext('list', { times: 2, afterItems: 7 });
    const listed = (await listAll(retrying(), 'index/')).map((o) => o.key);
    expect(listed.sort()).toEqual(keys);
    expect(flaky.calls.list).toBe(3);
    expect(events.map((ev) => ev.op)).toEqual(['list', 'list']);
  });
});
