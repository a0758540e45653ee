/**
 * `coffre status` through the real CLI, beside a real agent, on a local repository: fresh
 * install, a good backup, the objective exceeded (a CLI whose clock runs two hours ahead),
 * the agent stopped, the storage failing, a drill finding damage — with the exit codes and
 * first lines a Nagios/Icinga check sees, and the JSON checked against its schema. A webhook
 * receiver on loopback counts the alerts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { statusDocumentSchema, type StatusDocument } from '../../src/ui/status-schema.js';
import { agentFixture, isBackupDone, startAgent, writeConfig, type AgentProcess } from '../helpers/agent.js';
import { cliOk, ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { Receiver } from '../helpers/webhook-receiver.js';
import { write } from '../helpers/tree.js';

const fast = { debounceMs: 200, settleSeconds: 1, maxSettleSeconds: 5 };
/** Scheduled, but not due during the test: a fresh install is not late for them. */
const schedules = { backup: '*/2 * * * * *', check: '0 3 * * *', drill: '0 4 * * 0' };

async function status(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; first: string; text: string; doc: StatusDocument }> {
  const text = await runCli(['status', ...args], { env });
  const json = await runCli(['status', '--json', ...args], { env });
  expect(json.code).toBe(text.code);
  expect(text.stderr).toBe('');
  return { code: text.code, first: text.stdout.split('\n')[0]!, text: text.stdout, doc: statusDocumentSchema.parse(JSON.parse(json.stdout)) };
}

/** Two hours ahead, for a status that must find the last backup too old. */
function clockAhead(ms: number): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `--import=${pathToFileURL(path.join(ROOT, 'tests/helpers/skewed-clock.mjs')).href}`, COFFRE_TEST_CLOCK_OFFSET_MS: String(ms) };
}

/** Nagios plugin output: "COFFRE STATE - text | label=value[unit];warn;crit;min ...". */
const NAGIOS = /^COFFRE (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+( \| ([a-z_]+=\d+(s|B)?;\d*;\d*;0)( [a-z_]+=\d+(s|B)?;\d*;\d*;0)*)?$/;

describe('coffre status', () => {
  it('on a fresh install: UNKNOWN (exit 3), saying that no backup has run yet', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    const config = writeConfig(dir, { repository: repo, passwordFile: pw, stateDir: state, sources: [{ path: src }], schedule: schedules });
    const s = await status(['--config', config]);
    expect(s.code).toBe(3);
    expect(s.first).toMatch(NAGIOS);
    expect(s.first).toBe(
      `COFFRE UNKNOWN - no state directory ${state}: no backup has run on this machine with it; the agent is not running: it has not run with this state directory; no backup happens until it is started`,
    );
    expect(s.doc).toMatchObject({ state: 'UNKNOWN', exitCode: 3, catalog: { available: false }, agent: { expected: true, running: false } });

    const flags = await status(['--repo', repo, '--state-dir', path.join(dir, 'other-state')]);
    expect(flags.code).toBe(3);
    // A config that cannot be read is UNKNOWN too: monitoring must not call it CRITICAL.
    const missing = await runCli(['status', '--config', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toMatch(/^COFFRE UNKNOWN - cannot read agent config .*nope\.json: ENOENT/);
    // So is a broken check definition (the Nagios plugin guidelines: bad arguments are UNKNOWN).
    const bad = await runCli(['status', '--rpo-minutes', 'sixty']);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toBe('COFFRE UNKNOWN - --rpo-minutes: expected a positive integer, got "sixty"\n');
  });

  it('OK after a good backup; CRITICAL once the objective is exceeded; WARNING when the agent stops', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    write(path.join(src, 'a.csv'), 'a\n');
    write(path.join(src, 'b.csv'), 'b\n');
    const config = writeConfig(dir, { repository: repo, passwordFile: pw, stateDir: state, sources: [{ path: src }], schedule: schedules, watch: fast, rpoMinutes: 60 });
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      const ok = await status(['--config', config]);
      expect(ok.code, ok.text).toBe(0);
      expect(ok.first).toMatch(NAGIOS);
      expect(ok.first).toMatch(/^COFFRE OK - recovery point \d+ s old \(.* UTC\), objective 60 min \| backup_age=\d+s;2880;3600;0 backup_failures=0;;0;0 pending_changes=0;;;0 snapshots=\d+;;;0 stored=\d+B;;;0$/);
      const snapshots = JSON.parse((await cliOk(['snapshots', '--json', '--repo', repo, '--password-file', pw, '--state-dir', path.join(dir, 'cli-state')])).stdout) as { id: string }[];
      expect(ok.doc.backup.lastSuccess).toMatchObject({ snapshotId: snapshots.at(-1)!.id, result: 'ok' });
      expect(ok.doc.sources).toEqual([expect.objectContaining({ path: src, inLastBackup: true, pendingChanges: 0 })]);
      expect(ok.doc.agent).toMatchObject({ expected: true, running: true, pid: agent.child.pid });
      expect(ok.doc.repository).toMatchObject({ location: repo, snapshots: snapshots.length, recorded: { keyFiles: fs.readdirSync(path.join(repo, 'keys')).length, objectLock: null } });
      expect(ok.doc.backup.nextRun).not.toBeNull();
      expect(ok.text).toContain(`Sources     ${src}: saved `);

      // The same state from plain flags, without the config (no agent expected, sources from the snapshot).
      const flags = await status(['--repo', repo, '--state-dir', state]);
      expect(flags.code).toBe(0);
      expect(flags.doc.sources.map((x) => x.path)).toEqual([src]);

      // Two hours later without a backup (the status's clock runs ahead): the objective is missed.
      const late = await status(['--config', config], clockAhead(2 * 3600_000));
      expect(late.code).toBe(2);
      expect(late.first).toMatch(NAGIOS);
      expect(late.first).toMatch(/^COFFRE CRITICAL - recovery point 2 h( 0\d min)? old \(.*\), objective 60 min: missed/);
      expect(late.doc.checks.find((c) => c.id === 'recovery-point')?.state).toBe('CRITICAL');
      // 80% of it: WARNING.
      const warn = await status(['--config', config], clockAhead(50 * 60_000));
      expect(warn.code).toBe(1);
      expect(warn.first).toMatch(/^COFFRE WARNING - recovery point 5\d min old .*: 8\d% of it used/);
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
    const stopped = await status(['--config', config]);
    expect(stopped.code).toBe(1);
    expect(stopped.first).toMatch(/^COFFRE WARNING - the agent is not running: it stopped at .* UTC; no backup happens until it is started \| /);
  });

  it('storage failing: CRITICAL with the reason; the webhook gets exactly one alert per transition, retried until delivered', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    write(path.join(src, 'a.csv'), 'a\n');
    const hook = await Receiver.start({ failFirst: 1 });
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: schedules,
      watch: fast,
      retry: { minSeconds: 1, maxSeconds: 2 },
      alerts: { webhook: { url: `${hook.url}/hooks/coffre-secret-token`, retries: 3 } },
    });
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      await settle(agent);
      expect(hook.delivered).toEqual([]); // OK from the start: nothing to say

      const away = `${repo}.unmounted`;
      fs.renameSync(repo, away);
      const from = agent.lines.length;
      write(path.join(src, 'DUPONT Jean - written during the outage.csv'), 'b\n');
      await agent.waitFor((l) => l.job === 'backup' && l.level === 'error', 60_000, from);
      const down = await status(['--config', config]);
      expect(down.code).toBe(2);
      expect(down.first).toMatch(NAGIOS);
      expect(down.first).toMatch(/^COFFRE CRITICAL - last backup failed \d+ s ago( \(\d+ in a row since .*\))?: .*(ENOENT|has disappeared)/);
      expect(down.doc.backup.lastFailure).toMatchObject({ current: true, message: expect.stringMatching(/ENOENT|has disappeared/) });
      await expect.poll(() => hook.delivered.length, { timeout: 20_000 }).toBe(1);
      // Failures go on (retries every second or two): still one alert.
      await agent.waitFor((l) => l.job === 'backup' && l.level === 'error' && (l.failures as number) >= 3, 60_000, from);
      await settle(agent);

      fs.renameSync(away, repo);
      await agent.waitFor((l) => isBackupDone(l) && /recovered after/.test(l.msg), 60_000, from);
      await expect.poll(() => hook.delivered.length, { timeout: 20_000 }).toBe(2);
      await settle(agent);
      expect(hook.delivered.map((a) => `${a.previous}->${a.state}`)).toEqual(['OK->CRITICAL', 'CRITICAL->OK']);
      expect(hook.attempts).toBe(3); // the first alert was refused once (503), then delivered
      expect(hook.delivered[0]).toMatchObject({ schema: 'coffre.alert/1', repository: repo, reasons: [expect.objectContaining({ check: 'last-backup', state: 'CRITICAL' })] });
      expect(JSON.stringify(hook.delivered)).not.toContain('DUPONT');
      expect(JSON.stringify(agent.lines)).not.toContain('coffre-secret-token'); // only the webhook's origin is logged
      expect((await status(['--config', config])).code).toBe(0);
    } finally {
      expect((await agent.stop()).code).toBe(0);
      await hook.close();
    }
  });

  it('a restore drill that finds damage is CRITICAL', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    for (let i = 0; i < 5; i++) write(path.join(src, `f${i}.csv`), `${'x'.repeat(2000)} ${i}\n`);
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { ...schedules, drill: '*/3 * * * * *' },
      watch: fast,
    });
    const agent = startAgent(config);
    try {
      await agent.waitFor((l) => l.job === 'drill' && l.outcome === 'ok', 60_000);
      const good = await status(['--config', config]);
      expect(good.code, good.text).toBe(0);
      expect(good.doc.drill.lastSuccess).toMatchObject({ result: 'ok', files: 5, mismatches: 0 });

      for (const f of dataFiles(repo)) {
        const b = fs.readFileSync(f);
        for (let k = 0; k < b.length; k += 256) b[k]! ^= 0xff; // the storage rotted: every pack, all along
        fs.chmodSync(f, 0o644);
        fs.writeFileSync(f, b);
      }
      const from = agent.lines.length;
      await agent.waitFor((l) => l.job === 'drill' && l.outcome === 'problem', 60_000, from);
      const bad = await status(['--config', config]);
      expect(bad.code).toBe(2);
      expect(bad.first).toMatch(NAGIOS);
      expect(bad.first).toMatch(/^COFFRE CRITICAL - the restore drill \d+ s ago failed: /);
      expect(bad.doc.drill.last).toMatchObject({ result: 'damage' });
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
  });
});

/** Waits for the health monitor to judge what just happened (it judges 1.5 s after a change). */
async function settle(agent: AgentProcess): Promise<void> {
  expect(agent.child.exitCode).toBeNull();
  await new Promise((r) => setTimeout(r, 3000));
}

function dataFiles(repo: string): string[] {
  return fs
    .readdirSync(path.join(repo, 'data'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}
