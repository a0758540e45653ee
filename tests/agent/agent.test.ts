/**
 * `coffre agent` as a real child process against a local repository: watch, schedule,
 * back up, survive the storage going away, stop cleanly and resume. Deadlines are generous
 * schedule windows; nothing asserts how fast a backup is.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentFixture, isBackupDone, latestPaths, startAgent, writeConfig, type LogLine } from '../helpers/agent.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { seededBytes, write } from '../helpers/tree.js';
import { tempDir } from '../helpers/tmp.js';

const fast = { debounceMs: 200, settleSeconds: 1, maxSettleSeconds: 5 };

describe('coffre agent (local repository)', () => {
  it('backs up new, modified and deleted files within the schedule, and leaves out excluded ones', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    write(path.join(src, 'keep.csv'), 'v1\n');
    write(path.join(src, 'gone.csv'), 'bye\n');
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src, exclude: ['*.tmp'] }],
      schedule: { backup: '*/2 * * * * *' },
      watch: fast,
    });
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      expect(await latestPaths(repo, pw, state)).toEqual(expect.arrayContaining([path.join(src, 'keep.csv'), path.join(src, 'gone.csv')]));

      let from = agent.lines.length;
      write(path.join(src, 'sub', 'new.csv'), 'new\n');
      write(path.join(src, 'keep.csv'), 'v2, longer\n');
      write(path.join(src, 'scratch.tmp'), 'excluded');
      const second = await agent.waitFor((l) => isBackupDone(l) && l.filesNew === 1 && l.filesChanged === 1, 60_000, from);
      expect(second.because).toBe('changes');
      const paths = await latestPaths(repo, pw, state);
      expect(paths).toContain(path.join(src, 'sub', 'new.csv'));
      expect(paths).not.toContain(path.join(src, 'scratch.tmp'));

      from = agent.lines.length;
      fs.rmSync(path.join(src, 'gone.csv'));
      await agent.waitFor(isBackupDone, 60_000, from);
      expect(await latestPaths(repo, pw, state)).not.toContain(path.join(src, 'gone.csv'));

      // No file name at the default log level (they can be patient names), never the passphrase.
      expect(JSON.stringify(agent.lines)).not.toContain('keep.csv');
      expect(JSON.stringify(agent.lines) + agent.stderr()).not.toContain('correct horse');
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
  });

  it('backs up at once at start when the last backup is older than the recovery point, and not otherwise', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    write(path.join(src, 'a'), 'a');
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '0 0 1 1 *', rescan: '0 0 1 1 *' }, // once a year: only the start counts
      watch: { enabled: false, rescanOnStart: false },
      rpoMinutes: 60,
      logLevel: 'debug',
    });
    let agent = startAgent(config);
    const first = await agent.waitFor(isBackupDone);
    expect(first).toMatchObject({ trigger: 'start', because: 'recovery point' });
    expect((await agent.stop()).code).toBe(0);

    agent = startAgent(config);
    const again = await agent.waitFor((l) => l.job === 'backup' && l.outcome !== undefined);
    expect(again.outcome).toBe('skipped');
    expect((await agent.stop()).code).toBe(0);
  });

  it('finds what the watcher missed with the scheduled rescan', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    write(path.join(src, 'a'), 'a');
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '*/2 * * * * *', rescan: '*/3 * * * * *' },
      watch: { ...fast, enabled: false },
    });
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      const from = agent.lines.length;
      write(path.join(src, 'missed-by-no-watcher'), 'x');
      await agent.waitFor((l) => l.job === 'rescan' && typeof l.changed === 'number' && l.changed > 0, 60_000, from);
      await agent.waitFor((l) => isBackupDone(l) && l.filesNew === 1, 60_000, from);
      expect(await latestPaths(repo, pw, state)).toContain(path.join(src, 'missed-by-no-watcher'));
    } finally {
      await agent.stop();
    }
  });

  it('reloads its config on SIGHUP, and keeps the running one when the new one is invalid', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    const other = path.join(dir, 'other');
    write(path.join(src, 'a'), 'a');
    write(path.join(other, 'b'), 'b');
    const base = { repository: repo, passwordFile: pw, stateDir: state, schedule: { backup: '*/2 * * * * *' }, watch: fast };
    const config = writeConfig(dir, { ...base, sources: [{ path: src }] });
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      let from = agent.lines.length;
      writeConfig(dir, { ...base, sources: [{ path: 'relative' }] });
      agent.child.kill('SIGHUP');
      const refused = await agent.waitFor((l) => l.msg.startsWith('reload refused'), 30_000, from);
      expect(refused.msg).toContain('sources[0].path: expected an absolute path');

      from = agent.lines.length;
      writeConfig(dir, { ...base, sources: [{ path: src }, { path: other }] });
      agent.child.kill('SIGHUP');
      await agent.waitFor((l) => l.msg === 'config reloaded', 30_000, from);
      await agent.waitFor(isBackupDone, 60_000, agent.lines.findIndex((l, i) => i >= from && l.msg === 'config reloaded'));
      expect(await latestPaths(repo, pw, state)).toEqual(expect.arrayContaining([path.join(src, 'a'), path.join(other, 'b')]));
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
  });

  it('runs check, drill and retention on their own schedules, and records them for status', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    write(path.join(src, 'a.csv'), 'a');
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '*/2 * * * * *', check: '*/5 * * * * *', drill: '*/7 * * * * *', retention: '*/6 * * * * *' },
      check: { readDataSubset: '100%' },
      drill: { sample: 10 },
      retention: { keepLast: 1 },
      watch: fast,
    });
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      write(path.join(src, 'b.csv'), 'b'); // a second snapshot, which retention keeps instead of the first
      await agent.waitFor((l) => isBackupDone(l) && l.filesNew === 1);
      expect(await agent.waitFor((l) => l.job === 'check' && l.outcome !== undefined)).toMatchObject({ outcome: 'ok', errors: 0 });
      expect(await agent.waitFor((l) => l.job === 'drill' && l.outcome !== undefined)).toMatchObject({ outcome: 'ok', mismatches: 0 });
      const wouldForget = await agent.waitFor((l) => l.job === 'retention' && l.msg.startsWith('would forget'));
      expect(wouldForget.msg).toContain('retention.apply is false');
      expect(await agent.waitFor((l) => l.job === 'retention' && l.outcome !== undefined)).toMatchObject({ outcome: 'ok', applied: false });
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
    const snapshots = await cliOk(['snapshots', '--json', '--repo', repo, '--password-file', pw, '--state-dir', state]);
    expect((JSON.parse(snapshots.stdout) as unknown[]).length).toBeGreaterThanOrEqual(2); // nothing was forgotten
    // The run history and drill results outlive the agent (status reads them without it).
    const catalogFile = fs.readdirSync(state).find((f) => f.endsWith('.sqlite'))!;
    const db = new Database(path.join(state, catalogFile), { readonly: true });
    try {
      const kinds = (db.prepare("SELECT kind FROM runs WHERE result = 'ok'").all() as { kind: string }[]).map((r) => r.kind);
      expect(kinds).toEqual(expect.arrayContaining(['backup', 'check']));
      expect((db.prepare("SELECT count(*) AS n FROM drill_runs WHERE result = 'ok'").get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('refuses a second agent on the same state directory', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    const config = writeConfig(dir, { repository: repo, passwordFile: pw, stateDir: state, sources: [{ path: src }] });
    const agent = startAgent(config);
    try {
      await agent.waitFor((l) => l.msg === 'agent started');
      const second = await runCli(['agent', '--config', config]);
      expect(second.code).toBe(11);
      expect(second.stderr).toContain(`state directory ${state} is in use by another coffre agent (pid ${agent.child.pid}`);
    } finally {
      await agent.stop();
    }
  });

  it('exits non-zero naming the key of an invalid config, and refuses a passphrase file others can read', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    const bad = writeConfig(dir, { repository: repo, passwordFile: pw, stateDir: state, sources: [{ path: src, exlude: ['*.tmp'] }] }, 'bad.json');
    let r = await runCli(['agent', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`coffre: agent config ${bad}: sources[0].exlude: unknown key (see docs/agent-config.md)\n`);

    r = await runCli(['agent', '--config', writeConfig(dir, { repository: repo, passwordFile: pw, stateDir: state, sources: [{ path: src }], schedule: { backup: '* * * * * * *' } }, 'cron.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('schedule.backup: not a cron expression');

    const open = path.join(dir, 'pw-open');
    fs.copyFileSync(pw, open);
    fs.chmodSync(open, 0o644);
    r = await runCli(['agent', '--config', writeConfig(dir, { repository: repo, passwordFile: open, stateDir: state, sources: [{ path: src }] }, 'open.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`passphrase file ${open} is readable by group or others (mode 0644)`);

    r = await runCli(['agent', '--config', writeConfig(dir, { repository: 's3:ftp://host/bucket', passwordFile: pw, stateDir: state, sources: [{ path: src }] }, 's3.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^coffre: agent config .*s3\.json: repository: .*scheme must be http or https/);
  });

  it('keeps running while the repository is unreachable, says so, and recovers without a restart', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    write(path.join(src, 'a'), 'a');
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '*/2 * * * * *' },
      watch: fast,
      retry: { minSeconds: 1, maxSeconds: 2 },
    });
    const agent = startAgent(config);
    try {
      await agent.waitFor(isBackupDone);
      const away = `${repo}.unmounted`;
      fs.renameSync(repo, away); // the mount is gone
      let from = agent.lines.length;
      write(path.join(src, 'written-during-outage'), 'b');
      const failed = await agent.waitFor((l) => l.job === 'backup' && l.level === 'error', 60_000, from);
      expect(failed.msg).toMatch(/^backup failed: .*; retrying at /);
      expect(failed.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      // The status file says what is failing (read by `coffre status`, issue #7).
      const failing = () => (JSON.parse(fs.readFileSync(path.join(state, 'agent-status.json'), 'utf8')) as { failing: { jobs: string[] } | null }).failing?.jobs;
      await expect.poll(failing, { timeout: 10_000 }).toContain('backup');

      from = agent.lines.length;
      fs.renameSync(away, repo); // back
      const recovered = await agent.waitFor((l: LogLine) => isBackupDone(l) && /recovered after/.test(l.msg), 60_000, from);
      expect(recovered.filesNew).toBe(1);
      expect(agent.child.exitCode).toBeNull();
      expect(await latestPaths(repo, pw, state)).toContain(path.join(src, 'written-during-outage'));
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
  });

  it('stops within 10 s in the middle of a large backup, exits 0, and the next start completes it', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    for (let i = 0; i < 24; i++) write(path.join(src, `big-${i}.bin`), seededBytes(16 << 20, i + 1));
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '0 0 1 1 *' },
      watch: fast,
    });
    let agent = startAgent(config);
    // Wait until the backup has stored some packs, then stop it.
    const dataDir = path.join(repo, 'data');
    await expect.poll(() => countFiles(dataDir), { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    const stopped = await agent.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    expect(agent.lines.some((l) => l.job === 'backup' && l.outcome === 'interrupted')).toBe(true);
    expect(agent.lines.some((l) => isBackupDone(l))).toBe(false);
    expect(agent.lines.at(-1)?.msg).toBe('stopped');
    // The stopped run let its uploads finish and named the stored packs in an index object.
    const afterStop = await runCli(['check', '--repo', repo, '--password-file', pw]);
    expect(afterStop.code, afterStop.stderr).toBe(0);
    expect(afterStop.stderr).not.toMatch(/not in any index/);

    agent = startAgent(config);
    try {
      const done = await agent.waitFor(isBackupDone, 120_000);
      expect(done.filesNew).toBe(24);
      expect(done.bytesAdded as number).toBeLessThan(24 * (16 << 20)); // what the first run stored is reused
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
    await cliOk(['check', '--repo', repo, '--password-file', pw]);
  });

  it('after a SIGKILL in the middle of a backup, the next start takes over and completes it', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    for (let i = 0; i < 12; i++) write(path.join(src, `big-${i}.bin`), seededBytes(16 << 20, 100 + i));
    const config = writeConfig(dir, { repository: repo, passwordFile: pw, stateDir: state, sources: [{ path: src }], schedule: { backup: '0 0 1 1 *' }, watch: fast });
    let agent = startAgent(config);
    await expect.poll(() => countFiles(path.join(repo, 'data')), { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(1);
    expect((await agent.stop('SIGKILL')).signal).toBe('SIGKILL');

    agent = startAgent(config);
    try {
      expect(await agent.waitFor(isBackupDone, 120_000)).toMatchObject({ filesNew: 12 });
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
    const catalogFile = fs.readdirSync(state).find((f) => f.endsWith('.sqlite'))!;
    const db = new Database(path.join(state, catalogFile), { readonly: true });
    try {
      const runs = db.prepare("SELECT result FROM runs WHERE kind = 'backup' ORDER BY id").all() as { result: string }[];
      expect(runs.map((r) => r.result)).toEqual(['interrupted', 'ok']);
    } finally {
      db.close();
    }
    await cliOk(['check', '--read-data', '--repo', repo, '--password-file', pw]);
  });
});

function countFiles(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}
