/**
 * The agent (a real child process, watching real files) meets ransomware: the backup after
 * half the tree is encrypted in place is flagged, the webhook gets a CRITICAL alert naming
 * the anomaly, the audit trail records the agent's config and backups, and `coffre anomaly
 * ack` ends the alarm (a CRITICAL -> OK alert).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/entry.js';
import { agentFixture, isBackupDone, startAgent, writeConfig } from '../helpers/agent.js';
import { cliOk } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { csvText, write } from '../helpers/tree.js';
import { Receiver } from '../helpers/webhook-receiver.js';

describe('agent and ransomware', () => {
  it('flags the backup, alerts, records it in the audit trail, and clears on ack', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    for (let i = 0; i < 40; i++) write(path.join(src, `p-${i}.csv`), csvText(3000, i));
    const hook = await Receiver.start();
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '*/2 * * * * *', check: '0 3 * * *', drill: '0 4 * * 0' },
      watch: { debounceMs: 200, settleSeconds: 1, maxSettleSeconds: 5 },
      alerts: { webhook: { url: hook.url, retries: 3 } },
    });
    const common = ['--repo', repo, '--password-file', pw, '--state-dir', state];
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      const from = agent.lines.length;
      for (let i = 0; i < 20; i++) {
        const f = path.join(src, `p-${i}.csv`);
        const c = createCipheriv('aes-256-cbc', randomBytes(32), randomBytes(16));
        writeFileSync(f, Buffer.concat([c.update(readFileSync(f)), c.final()]));
      }
      const flagged = await agent.waitFor((l) => isBackupDone(l) && l.suspect === true, 60_000, from);
      expect(JSON.stringify(flagged.anomaly)).toMatch(/incompressible/);
      await expect.poll(() => hook.delivered.some((a) => a.state === 'CRITICAL'), { timeout: 30_000 }).toBe(true);
      const alert = hook.delivered.find((a) => a.state === 'CRITICAL')!;
      expect(alert.reasons).toContainEqual(expect.objectContaining({ check: 'anomaly', state: 'CRITICAL', message: expect.stringMatching(/suspect/) }));

      const audit = (await cliOk(['audit', '--json', ...common])).stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
      expect(audit[0]).toMatchObject({ action: 'config', detail: expect.stringMatching(/^agent started with config sha256:[0-9a-f]{16}$/) });
      const backups = audit.filter((e) => e.action === 'backup');
      expect(backups.length).toBeGreaterThanOrEqual(2);
      expect(backups.some((e) => /flagged suspect/.test(e.detail ?? ''))).toBe(true);

      await cliOk(['anomaly', 'ack', ...common]);
      await expect.poll(() => hook.delivered.at(-1)?.state, { timeout: 30_000 }).toBe('OK');
    } finally {
      expect((await agent.stop()).code).toBe(0);
      await hook.close();
    }
  });
});
