/**
 * Secrets never leak (DESIGN invariant 7, docs/SECURITY.md): real CLI and agent child
 * processes against S3 (RGW), then every place a secret could end up is searched for the
 * passphrases and the S3 secret key: argv and process titles of the running agent and of its
 * threads (/proc), its log, every error output, every file of the state directories (the
 * SQLite catalog with its WAL included). Group- or world-readable secret files are refused
 * with one line naming the fix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBackupDone, startAgent, writeConfig } from '../helpers/agent.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { createTestBucket, s3TestEnv, SKIPPED_S3, type TestBucket } from '../helpers/s3-test-env.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

const env = s3TestEnv();

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

describe.skipIf(!env)('secrets never leak (a write-only agent on S3)', () => {
  const e = env ?? SKIPPED_S3;
  let bucket: TestBucket;
  beforeAll(async () => {
    bucket = await createTestBucket(e, { tag: 'secrets' });
  });
  afterAll(() => bucket?.destroy());

  it('not in argv, process titles, logs, errors or the catalog; loose secret files are refused', async () => {
    const dir = tempDir();
    const adminPass = `admin-pass-${Math.random().toString(36).slice(2)}`;
    const agentPass = `agent-pass-${Math.random().toString(36).slice(2)}`;
    const secrets = [adminPass, agentPass, e.secretAccessKey];
    expect(e.secretAccessKey.length).toBeGreaterThanOrEqual(8); // a meaningful needle
    const adminPw = passwordFile(dir, adminPass);
    const agentPw = passwordFile(dir, agentPass);
    const s3env = { AWS_ACCESS_KEY_ID: e.accessKeyId, AWS_SECRET_ACCESS_KEY: e.secretAccessKey, AWS_REGION: e.region };
    const adminState = path.join(dir, 'admin-state');
    const admin = ['--repo', bucket.location, '--password-file', adminPw, '--state-dir', adminState];
    const outputs: string[] = [];
    const keep = (r: { stdout: string; stderr: string }) => outputs.push(r.stdout, r.stderr);

    keep(await cliOk(['init', ...admin, '--kdf', 'min'], { env: s3env }));
    keep(await cliOk(['key', 'add', '--write-only', '--new-password-file', agentPw, '--kdf', 'min', ...admin], { env: s3env }));

    const src = path.join(dir, 'src');
    write(path.join(src, 'a.csv'), 'id;nom\n1;DUPONT\n');
    const keyIdFile = path.join(dir, 's3-key-id');
    const secretFile = path.join(dir, 's3-secret');
    fs.writeFileSync(keyIdFile, `${e.accessKeyId}\n`, { mode: 0o600 });
    fs.writeFileSync(secretFile, `${e.secretAccessKey}\n`, { mode: 0o600 });
    const agentState = path.join(dir, 'agent-state');
    const config = writeConfig(dir, {
      repository: bucket.location,
      passwordFile: agentPw,
      stateDir: agentState,
      sources: [{ path: src }],
      schedule: { backup: '*/2 * * * * *', check: '*/3 * * * * *', drill: '*/3 * * * * *' },
      logLevel: 'debug', // file names and every detail: still no secret
      s3: { accessKeyIdFile: keyIdFile, secretAccessKeyFile: secretFile, region: e.region },
      watch: { debounceMs: 200, settleSeconds: 1, maxSettleSeconds: 5 },
      retry: { minSeconds: 1, maxSeconds: 2 },
    });
    // The agent's environment holds no secret: it reads its files.
    const agent = startAgent(config, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', COFFRE_PASSWORD_FILE: '' });
    const procTexts: string[] = [];
    try {
      await agent.waitFor(isBackupDone);
      // A write-only agent cannot read its backups: its scheduled check and drill are skipped, saying why.
      for (const job of ['check', 'drill']) {
        const skipped = await agent.waitFor((l) => l.job === job && l.outcome !== undefined);
        expect(skipped).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/write-only key/) });
      }
      // While it runs: its argv and the titles of the process and of every thread (workers).
      const pid = agent.child.pid!;
      procTexts.push(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1'), fs.readFileSync(`/proc/${pid}/comm`, 'latin1'));
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
        procTexts.push(fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'latin1'));
        procTexts.push(fs.readFileSync(`/proc/${pid}/task/${t}/cmdline`, 'latin1'));
      }
      expect(procTexts.join('\n')).toContain('agent'); // we read the right process
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
    outputs.push(agent.lines.map((l) => JSON.stringify(l)).join('\n'), agent.stderr());

    // Error paths: wrong passphrase, debug output, a restore refused to the write-only key.
    const wrong = passwordFile(dir, `${adminPass}-wrong`);
    const bad = await runCli(['snapshots', '--repo', bucket.location, '--password-file', wrong, '--state-dir', adminState], { env: s3env });
    expect(bad.code).not.toBe(0);
    keep(bad);
    keep(await cliOk(['--debug', 'backup', ...admin, src], { env: s3env }));
    const refused = await runCli(['restore', 'latest', '--target', path.join(dir, 't'), '--repo', bucket.location, '--password-file', agentPw, '--state-dir', agentState], { env: s3env });
    expect(refused.code).toBe(2);
    keep(refused);

    // Loose secret files: refused with one line saying how to fix it, before any use.
    fs.chmodSync(adminPw, 0o640);
    const loosePw = await runCli(['snapshots', ...admin], { env: s3env });
    expect(loosePw.code).toBe(2);
    expect(loosePw.stderr).toMatch(/readable by group or others \(mode 0640\)/);
    expect(loosePw.stderr).toContain(`chmod 600 ${adminPw}`);
    keep(loosePw);
    fs.chmodSync(adminPw, 0o600);
    fs.chmodSync(secretFile, 0o644);
    const looseAgent = startAgent(config, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    const exit = await looseAgent.exited;
    expect(exit.code).not.toBe(0);
    const looseOut = looseAgent.lines.map((l) => JSON.stringify(l)).join('\n') + looseAgent.stderr();
    expect(looseOut).toMatch(/S3 secret access key file \S*s3-secret is readable by group or others \(mode 0644\).*chmod 600/);
    outputs.push(looseOut);

    const stateFiles = [...filesUnder(adminState), ...filesUnder(agentState)];
    expect(stateFiles.some((f) => /\.(sqlite|db)$/.test(f))).toBe(true); // the catalog is among them
    for (const s of secrets) {
      for (const text of [...procTexts, ...outputs]) expect(text.includes(s), 'a secret in argv, a title, a log or an error').toBe(false);
      for (const f of stateFiles) expect(fs.readFileSync(f).includes(Buffer.from(s)), `a secret in ${f}`).toBe(false);
    }
  });
});
