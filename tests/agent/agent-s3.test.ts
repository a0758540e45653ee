/**
 * `coffre agent` against S3 (the RGW test server) through a fault proxy: credentials from
 * files named in the config, the storage answering 503 for a while, then refusing the
 * credentials, then coming back — the agent keeps running, says what fails, and recovers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentFixture, isBackupDone, latestPaths, startAgent, writeConfig } from '../helpers/agent.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { createTestBucket, s3TestEnv, SKIPPED_S3, type TestBucket } from '../helpers/s3-test-env.js';
import { tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

const env = s3TestEnv();

describe.skipIf(!env)('coffre agent (S3 through a faulty network)', () => {
  const e = env ?? SKIPPED_S3;
  let bucket: TestBucket;
  let proxy: FaultProxy;
  beforeAll(async () => {
    bucket = await createTestBucket(e, { tag: 'agent' });
    proxy = await FaultProxy.start(e.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await bucket?.destroy();
  });

  it('backs up, survives a storage outage and refused credentials without a restart, and recovers', async () => {
    const dir = tempDir();
    const s3env = { AWS_ACCESS_KEY_ID: e.accessKeyId, AWS_SECRET_ACCESS_KEY: e.secretAccessKey, AWS_REGION: e.region };
    const { repo, pw, state, src } = await agentFixture(dir, bucket.location, s3env);
    const keyId = path.join(dir, 's3-key-id');
    const secret = path.join(dir, 's3-secret');
    fs.writeFileSync(keyId, `${e.accessKeyId}\n`, { mode: 0o600 });
    fs.writeFileSync(secret, `${e.secretAccessKey}\n`, { mode: 0o600 });
    write(path.join(src, 'a.csv'), 'a');
    const viaProxy = repo.replace(e.endpoint, proxy.endpoint);
    const config = writeConfig(dir, {
      repository: viaProxy,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '*/2 * * * * *' },
      s3: { accessKeyIdFile: keyId, secretAccessKeyFile: secret, region: e.region },
      watch: { debounceMs: 200, settleSeconds: 1, maxSettleSeconds: 5 },
      retry: { minSeconds: 1, maxSeconds: 2 },
    });
    // The agent takes its keys from the files only.
    const agent = startAgent(config, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    try {
      await agent.waitFor(isBackupDone);

      // Outage: every new connection gets 503 SlowDown.
      proxy.plan = () => ({ kind: 'respond', status: 503, code: 'SlowDown' });
      proxy.dropConnections();
      let from = agent.lines.length;
      write(path.join(src, 'during-outage.csv'), 'b');
      const outage = await agent.waitFor((l) => l.job === 'backup' && l.level === 'error', 90_000, from);
      expect(outage.error).toMatchObject({ code: 'COFFRE_STORAGE', kind: 'transient' });

      // Credentials refused: 403 AccessDenied. The agent drops its session and retries.
      proxy.plan = () => ({ kind: 'respond', status: 403, code: 'AccessDenied' });
      proxy.dropConnections();
      from = agent.lines.length;
      const refused = await agent.waitFor((l) => l.job === 'backup' && l.level === 'error' && (l.error as { kind?: string }).kind === 'permission', 90_000, from);
      expect(refused.msg).toMatch(/retrying at/);

      proxy.plan = () => ({ kind: 'pass' });
      from = agent.lines.length;
      const back = await agent.waitFor((l) => isBackupDone(l) && /recovered after/.test(l.msg), 90_000, from);
      expect(back.filesNew).toBe(1);
      expect(agent.child.exitCode).toBeNull();
      expect(await latestPaths(repo, pw, path.join(dir, 'cli-state'), s3env)).toContain(path.join(src, 'during-outage.csv'));
    } finally {
      proxy.plan = () => ({ kind: 'pass' });
      expect((await agent.stop()).code).toBe(0);
    }
  });
});
