/**
 * `coffre prune` on the S3 backend (RGW): the two-phase cycle with a repack restores
 * bit-exact; on an Object Lock bucket prune never tries to delete an object under
 * retention, says until when it must wait, and the retention extension leaves planned
 * objects to expire while it keeps extending what snapshots still use.
 */
import { GetObjectRetentionCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extendLocks } from '../../src/app/lock-extension.js';
import { openRepository } from '../../src/app/repo.js';
import { cliOk } from '../helpers/cli.js';
import { adminClient, createTestBucket, s3TestEnv, SKIPPED_S3 } from '../helpers/s3-test-env.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees, seededBytes, write, type ItemInfo } from '../helpers/tree.js';

const env = s3TestEnv();
const DAY = 86_400_000;

describe.skipIf(!env)('prune on S3 (RGW)', () => {
  const e = env ?? SKIPPED_S3;
  const dir = tempDir();
  const pw = passwordFile(dir);
  let admin: S3Client;
  beforeAll(() => {
    admin = adminClient(e);
  });
  afterAll(() => admin.destroy());

  /** Two backups, the first forgotten: its big file is unused, its small one shares a pack with it. */
  async function setUp(repo: string, name: string, init: string[] = []) {
    const src = path.join(dir, `src-${name}`);
    const common = ['--repo', repo, '--password-file', pw, '--state-dir', path.join(dir, `state-${name}`)];
    await cliOk(['init', ...common, '--kdf', 'min', ...init]);
    write(path.join(src, 'old.bin'), seededBytes(2 * 1024 * 1024, 41));
    write(path.join(src, 'kept.bin'), seededBytes(150 * 1024, 42));
    await cliOk(['backup', ...common, src]);
    fs.rmSync(path.join(src, 'old.bin'));
    write(path.join(src, 'new.bin'), seededBytes(500 * 1024, 43));
    await cliOk(['backup', ...common, src]);
    const want = describeTree(src);
    await cliOk(['forget', '--keep-last', '1', ...common]);
    const restoresBitExact = async () => {
      const target = path.join(dir, `restore-${name}-${Math.random().toString(36).slice(2)}`);
      await cliOk(['restore', 'latest', '--target', target, ...common]);
      expect(diffTrees(want, describeTree(path.join(target, src)) as Map<string, ItemInfo>)).toEqual([]);
    };
    return { common, restoresBitExact };
  }

  const json = async (args: string[]) => JSON.parse((await cliOk(args)).stdout);

  it('plans, repacks and deletes after the grace period; the kept snapshot restores bit-exact', async () => {
    const bucket = await createTestBucket(e, { tag: 'prune' });
    try {
      const { common, restoresBitExact } = await setUp(`${bucket.location}/r`, 'plain');
      const before = await listKeys(admin, bucket.name, 'r/data/');
      const planned = await json(['prune', '--grace', '0s', '--json', ...common]);
      expect(planned.planned.repackPacks + planned.planned.deletePacks).toBeGreaterThanOrEqual(1);
      expect(await listKeys(admin, bucket.name, 'r/prune/')).toHaveLength(1);
      await restoresBitExact();
      const done = await json(['prune', '--grace', '0s', '--json', ...common]);
      expect(done.deleted.bytes).toBeGreaterThan(2 * 1024 * 1024);
      expect(done.waitingForLock).toEqual([]);
      expect(await listKeys(admin, bucket.name, 'r/prune/')).toEqual([]);
      const after = await listKeys(admin, bucket.name, 'r/data/');
      expect(after.filter((k) => before.includes(k)).length).toBeLessThan(before.length);
      await cliOk(['check', '--read-data', ...common]);
      await restoresBitExact();
    } finally {
      await bucket.destroy();
    }
  });

  it('Object Lock: never deletes an object under retention, says until when, and extension leaves planned objects to expire', async () => {
    const bucket = await createTestBucket(e, { tag: 'prune-lock', objectLock: true });
    const repo = `${bucket.location}/r`;
    const { common, restoresBitExact } = await setUp(repo, 'lock', ['--object-lock-mode', 'governance', '--object-lock-days', '1']);
    const planned = await json(['prune', '--grace', '0s', '--json', ...common]);
    const planKeys = await listKeys(admin, bucket.name, 'r/prune/');
    expect(planKeys).toHaveLength(1);
    const due = await json(['prune', '--grace', '0s', '--json', ...common]);
    expect(due.deleted.packs).toBe(0);
    expect(due.waitingForLock.length).toBeGreaterThanOrEqual(planned.planned.deletePacks + planned.planned.repackPacks);
    for (const w of due.waitingForLock) expect(Date.parse(w.until)).toBeGreaterThan(Date.now() + DAY / 2);
    expect(await listKeys(admin, bucket.name, 'r/prune/')).toEqual(planKeys); // the plan waits as it is
    const text = (await cliOk(['prune', '--grace', '0s', ...common])).stdout;
    expect(text).toMatch(/waiting for Object Lock: data\/[0-9a-f]{2}\/[0-9a-f]{64} is retained until \d{4}-/);
    await cliOk(['check', '--read-data', ...common]);
    await restoresBitExact();

    // Retention extension: what snapshots use is pushed to later + 1 day; planned objects are not.
    const later = Date.now() + 5 * DAY;
    const opened = await openRepository({ repo, passwordFile: pw, workers: 0 });
    const waiting = new Set<string>();
    try {
      const [plan] = await opened.prunePlans();
      for (const p of plan!.plan.packs) waiting.add(`r/data/${p.id.slice(0, 2)}/${p.id}`);
      for (const i of plan!.plan.indexes) waiting.add(`r/index/${i}`);
      for (const w of due.waitingForLock as { key: string }[]) expect(waiting.has(`r/${w.key}`)).toBe(true);
      const ext = await extendLocks(opened, { now: later });
      expect(ext?.skipped).toBeGreaterThanOrEqual(waiting.size);
    } finally {
      await opened.close();
      await opened.storage.close();
    }
    for (const key of await listKeys(admin, bucket.name, 'r/')) {
      if (key.startsWith('r/prune/')) continue;
      const { Retention } = await admin.send(new GetObjectRetentionCommand({ Bucket: bucket.name, Key: key }));
      const until = Retention?.RetainUntilDate?.getTime() ?? 0;
      if (waiting.has(key)) expect(until, key).toBeLessThan(later);
      else expect(until, key).toBeGreaterThanOrEqual(later + DAY - 1000);
    }
    // Buckets holding locked versions cannot be removed; they die with the throwaway server.
  });
});

async function listKeys(admin: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}
