/**
 * The agent's Prometheus metrics over real HTTP and as a node_exporter textfile: valid
 * exposition text (a strict parser, tests/helpers/prom-text.ts), values equal to what the
 * catalog, the repository on disk and the CLI say; a non-loopback address refused.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentFixture, isBackupDone, startAgent, writeConfig } from '../helpers/agent.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { parsePrometheusText, valueOf } from '../helpers/prom-text.js';
import { tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

const fast = { debounceMs: 200, settleSeconds: 1, maxSettleSeconds: 5 };

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('coffre agent metrics', () => {
  it('serves valid Prometheus text whose values match the catalog, and writes the same to a textfile', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    for (let i = 0; i < 7; i++) write(path.join(src, `p${i}.csv`), `${i}\n`.repeat(100 + i));
    const port = await freePort();
    const textfile = path.join(dir, 'node-exporter', 'coffre.prom');
    fs.mkdirSync(path.dirname(textfile));
    const config = writeConfig(dir, {
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '*/2 * * * * *', check: '0 3 * * *', drill: '0 4 * * 0' },
      watch: fast,
      rpoMinutes: 90,
      metrics: { listen: `127.0.0.1:${port}`, textfile, intervalSeconds: 1 },
    });
    const agent = startAgent(config);
    try {
      const done = await agent.waitFor(isBackupDone);
      await agent.waitFor((l) => l.msg === `metrics served at http://127.0.0.1:${port}/metrics`);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const m = parsePrometheusText(await res.text());

      // The catalog, read directly: the newest successful backup run.
      const catalogFile = filesUnder(state).find((f) => f.endsWith('.sqlite'))!;
      const db = new Database(catalogFile, { readonly: true });
      const run = db.prepare("SELECT * FROM runs WHERE kind = 'backup' AND result = 'ok' ORDER BY id DESC LIMIT 1").get() as {
        started: number;
        finished: number;
        files_new: number;
        bytes_added: number;
      };
      const packs = db.prepare('SELECT count(*) AS n, sum(size) AS bytes FROM packs').get() as { n: number; bytes: number };
      db.close();
      expect(valueOf(m, 'coffre_backup_last_success_timestamp_seconds')).toBe(run.finished / 1000);
      expect(valueOf(m, 'coffre_recovery_point_timestamp_seconds')).toBe(run.started / 1000);
      expect(valueOf(m, 'coffre_backup_last_duration_seconds')).toBe((run.finished - run.started) / 1000);
      expect(valueOf(m, 'coffre_backup_last_files', { kind: 'new' })).toBe(run.files_new);
      expect(valueOf(m, 'coffre_backup_last_bytes', { kind: 'added' })).toBe(run.bytes_added);
      if (done.filesNew === run.files_new) expect(valueOf(m, 'coffre_backup_last_bytes', { kind: 'added' })).toBe(done.bytesAdded);

      // …the repository on disk, and the CLI.
      const packFiles = filesUnder(path.join(repo, 'data'));
      expect(valueOf(m, 'coffre_repository_packs')).toBe(packs.n);
      expect(packs.n).toBe(packFiles.length);
      expect(valueOf(m, 'coffre_repository_stored_bytes')).toBe(packFiles.reduce((n, f) => n + fs.statSync(f).size, 0));
      expect(valueOf(m, 'coffre_repository_key_files')).toBe(fs.readdirSync(path.join(repo, 'keys')).length);
      const snapshots = JSON.parse((await cliOk(['snapshots', '--json', '--repo', repo, '--password-file', pw, '--state-dir', path.join(dir, 'cli')])).stdout) as unknown[];
      expect(valueOf(m, 'coffre_repository_snapshots')).toBe(snapshots.length);

      expect(valueOf(m, 'coffre_health_state')).toBe(0);
      expect(valueOf(m, 'coffre_health_check_state', { check: 'recovery-point' })).toBe(0);
      expect(valueOf(m, 'coffre_rpo_seconds')).toBe(5400);
      expect(valueOf(m, 'coffre_rpo_breached')).toBe(0);
      expect(valueOf(m, 'coffre_pending_changes')).toBe(0);
      expect(valueOf(m, 'coffre_check_last_timestamp_seconds')).toBe(0); // never
      expect(valueOf(m, 'coffre_repository_info', { location: repo })).toBe(1);
      expect(m.get('coffre_job_errors_total')?.type).toBe('counter');
      expect(m.get('coffre_health_state')?.help).toMatch(/0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN/);

      // A failing backup is counted by kind, and the health state follows.
      fs.renameSync(repo, `${repo}.away`);
      const from = agent.lines.length;
      write(path.join(src, 'late.csv'), 'x');
      await agent.waitFor((l) => l.job === 'backup' && l.level === 'error', 60_000, from);
      const failing = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(valueOf(failing, 'coffre_health_state')).toBe(2);
      expect(valueOf(failing, 'coffre_backup_failures_in_a_row')).toBeGreaterThanOrEqual(1);
      const errors = failing.get('coffre_job_errors_total')!.samples.filter((s) => s.labels.job === 'backup');
      expect(errors.reduce((n, s) => n + s.value, 0)).toBeGreaterThanOrEqual(1);
      fs.renameSync(`${repo}.away`, repo);

      // The textfile: the same families, complete, and no temporary file left beside it.
      await expect.poll(() => fs.existsSync(textfile), { timeout: 10_000 }).toBe(true);
      const t = parsePrometheusText(fs.readFileSync(textfile, 'utf8'));
      expect([...t.keys()].sort()).toEqual([...m.keys()].sort());
      await agent.waitFor((l) => isBackupDone(l), 60_000, from);
      await new Promise((r) => setTimeout(r, 2500));
      expect(fs.readdirSync(path.dirname(textfile))).toEqual(['coffre.prom']);

      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      expect((await agent.stop()).code).toBe(0);
    }
  });

  it('refuses to serve metrics on a non-loopback address unless allowed', async () => {
    const dir = tempDir();
    const { repo, pw, state, src } = await agentFixture(dir);
    const config = writeConfig(dir, { repository: repo, passwordFile: pw, stateDir: state, sources: [{ path: src }], metrics: { listen: '0.0.0.0:9479' } });
    const r = await runCli(['agent', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('metrics.listen: 0.0.0.0:9479 is not a loopback address, and the metrics endpoint has no authentication');
  });
});
