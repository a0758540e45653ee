/**
 * `coffre status` for an S3 repository with Object Lock (RGW): it reports the lock mode and
 * retention, the key files and the sizes that the backup recorded at its last contact — with
 * no storage credentials and no passphrase in its environment, because it never needs them.
 * Buckets holding locked versions cannot be removed; they die with the throwaway server.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusDocumentSchema } from '../../src/ui/status-schema.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { createTestBucket, s3TestEnv, SKIPPED_S3 } from '../helpers/s3-test-env.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, write } from '../helpers/tree.js';

const env = s3TestEnv();

describe.skipIf(!env)('coffre status on S3 with Object Lock', () => {
  const e = env ?? SKIPPED_S3;

  it('shows Object Lock, key files and savings recorded by the backup, needing neither credentials nor passphrase', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    for (let i = 0; i < 3; i++) write(path.join(src, `identities-${i}.csv`), csvText(256 * 1024, i + 1));
    write(path.join(src, 'copy.csv'), csvText(256 * 1024, 1)); // the same content again: deduplicated
    const state = path.join(dir, 'state');
    const pw = passwordFile(dir);
    const bucket = await createTestBucket(e, { tag: 'status-lock', objectLock: true });
    const repo = `${bucket.location}/host-01`;
    const withPw = ['--repo', repo, '--password-file', pw, '--state-dir', state];
    await cliOk(['init', ...withPw, '--kdf', 'min', '--object-lock-mode', 'governance', '--object-lock-days', '1']);
    await cliOk(['backup', ...withPw, src]);

    const noSecrets = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', COFFRE_PASSWORD_FILE: '', COFFRE_REPOSITORY: '' };
    const json = await runCli(['status', '--json', '--repo', repo, '--state-dir', state], { env: noSecrets });
    expect(json.code, json.stdout).toBe(0);
    const doc = statusDocumentSchema.parse(JSON.parse(json.stdout));
    expect(doc.repository).toMatchObject({ location: repo, snapshots: 1, recorded: { objectLock: { mode: 'governance', days: 1 }, keyFiles: 2 } });
    const rec = doc.repository.recorded!;
    expect(rec.dedupSavings).toBeGreaterThan(0.2); // one file of four is a copy
    expect(rec.compressionSavings).toBeGreaterThan(0.3); // CSV compresses
    expect(rec.ageSeconds).toBeLessThan(120);

    const text = await runCli(['status', '--repo', repo, '--state-dir', state], { env: noSecrets });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^COFFRE OK - recovery point \d+ s old/);
    expect(text.stdout).toContain('Object Lock governance, 1 days, 2 key file(s)');
    expect(text.stdout).toContain(`Repository  ${repo} (id `);
  });
});
