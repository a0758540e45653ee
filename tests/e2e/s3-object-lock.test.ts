/**
 * `init --object-lock-mode … --object-lock-days …` through the CLI on RGW: refused (exit 2,
 * one line, nothing stored) on a bucket without Object Lock; on a bucket with it, every object
 * a repository is made of carries that retention, the server refuses to delete a version, and
 * `key remove` / `key passwd` say why they cannot work instead of pretending to.
 * Buckets holding locked versions cannot be removed; they die with the throwaway server.
 */
import { DeleteObjectCommand, GetObjectRetentionCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extendLocks } from '../../src/app/lock-extension.js';
import { openRepository } from '../../src/app/repo.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { adminClient, createTestBucket, s3TestEnv, SKIPPED_S3 } from '../helpers/s3-test-env.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, seededBytes, write } from '../helpers/tree.js';

const env = s3TestEnv();
const DAY = 86_400_000;

describe.skipIf(!env)('Object Lock repositories through the CLI on RGW', () => {
  const e = env ?? SKIPPED_S3;
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const pw = passwordFile(dir);
  const withPw = (repo: string) => ['--repo', repo, '--password-file', pw, '--state-dir', path.join(dir, 'state')];
  let admin: S3Client;

  beforeAll(() => {
    admin = adminClient(e);
    write(`${src}/identity.csv`, csvText(2 * 1024 * 1024, 3));
    write(`${src}/scan.bin`, seededBytes(3 * 1024 * 1024, 4));
  });
  afterAll(() => admin.destroy());

  it('refuses a bucket without Object Lock: exit 2, one line, nothing stored', async () => {
    const bucket = await createTestBucket(e, { tag: 'nolock', prefix: 'r' });
    try {
      const r = await runCli(['init', ...withPw(bucket.location), '--kdf', 'min', '--object-lock-mode', 'compliance', '--object-lock-days', '1']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `coffre: Object Lock is not enabled on ${bucket.location} (create the bucket with Object Lock enabled; most providers cannot switch it on later)\n`,
      );
      const listed = await runCli(['snapshots', ...withPw(bucket.location)]);
      expect(listed.code).toBe(10); // no config, no key file: nothing half-made
    } finally {
      await bucket.destroy();
    }
  });

  for (const [mode, days] of [['compliance', 1], ['governance', 3]] as const) {
    it(`${mode}: every object carries the retention, versions cannot be deleted, keys cannot be removed`, async () => {
      const bucket = await createTestBucket(e, { tag: `lock-${mode.slice(0, 3)}`, objectLock: true });
      const repo = `${bucket.location}/host-01`;
      const started = Date.now();
      await cliOk(['init', ...withPw(repo), '--kdf', 'min', '--object-lock-mode', mode, '--object-lock-days', String(days)]);
      await cliOk(['backup', ...withPw(repo), src]);
      const finished = Date.now();

      const keys = await listKeys(admin, bucket.name, 'host-01/');
      const kinds = new Set(keys.map((k) => k.split('/')[1]));
      // audit/: the backup's audit entry, locked like everything else (never removable).
      expect([...kinds].sort()).toEqual(['audit', 'config', 'data', 'index', 'keys', 'snapshots']);
      for (const key of keys) {
        const { Retention } = await admin.send(new GetObjectRetentionCommand({ Bucket: bucket.name, Key: key }));
        expect(Retention?.Mode, key).toBe(mode.toUpperCase());
        const until = Retention?.RetainUntilDate?.getTime() ?? 0;
        expect(until, key).toBeGreaterThanOrEqual(started + days * DAY - 1000);
        expect(until, key).toBeLessThanOrEqual(finished + days * DAY + 1000);
      }

      // The server itself refuses to delete a locked version (no governance bypass is asked for).
      const pack = keys.find((k) => k.includes('/data/'))!;
      const { VersionId } = await admin.send(new HeadObjectCommand({ Bucket: bucket.name, Key: pack }));
      await expect(admin.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: pack, VersionId }))).rejects.toMatchObject({
        name: 'AccessDenied',
      });

      const list = JSON.parse((await cliOk(['key', 'list', '--json', ...withPw(repo)])).stdout) as { id: string; label: string }[];
      const recovery = list.find((k) => k.label === 'recovery')!;
      const removed = await runCli(['key', 'remove', recovery.id.slice(0, 8), ...withPw(repo)]);
      expect(removed.code).toBe(2);
      expect(removed.stderr).toMatch(/^coffre: cannot remove a key file: every object of this repository is under S3 Object Lock \(/);
      expect(removed.stderr.trim().split('\n')).toHaveLength(1);
      const newPw = passwordFile(dir, 'another passphrase');
      const passwd = await runCli(['key', 'passwd', '--new-password-file', newPw, '--kdf', 'min', ...withPw(repo)]);
      expect(passwd.code).toBe(2);
      expect(passwd.stderr).toMatch(/^coffre: cannot change the passphrase/);
      // Refused before anything was written: still the same two key files.
      expect(await listKeys(admin, bucket.name, 'host-01/keys/')).toHaveLength(2);

      const check = await runCli(['check', '--read-data', ...withPw(repo)]);
      expect(check.stderr).toBe('');
      expect(check.code).toBe(0);

      // Retention follows use (DESIGN invariant 10): days later, every object is pushed to
      // that day + N days, never shortened, and compliance stays compliance.
      const later = Date.now() + 5 * DAY;
      const opened = await openRepository({ repo, passwordFile: pw, workers: 0 });
      try {
        const done = await extendLocks(opened, { now: later });
        // Every object (the refused key commands' audit entries wait locally for the next writer).
        const now = await listKeys(admin, bucket.name, 'host-01/');
        expect(now.filter((k) => !keys.includes(k))).toEqual([]);
        expect(done?.objects).toBe(now.length);
      } finally {
        await opened.close();
        await opened.storage.close();
      }
      for (const key of keys) {
        const { Retention } = await admin.send(new GetObjectRetentionCommand({ Bucket: bucket.name, Key: key }));
        expect(Retention?.Mode, key).toBe(mode.toUpperCase());
        expect(Retention?.RetainUntilDate?.getTime(), key).toBeGreaterThanOrEqual(later + days * DAY - 1000);
      }
    });
  }
});

async function listKeys(admin: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}
