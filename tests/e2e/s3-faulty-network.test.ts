/**
 * Backups and restores through the real CLI to RGW, with the fault proxy in between: a network
 * that breaks connections every few MiB, and storage that goes away in the middle of a backup.
 * Each run either completes or fails with one line (exit 5); the next run resumes; no snapshot
 * is ever written for a backup that did not store everything; the restore is bit-exact.
 */
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliOk, runCli, type CliResult } from '../helpers/cli.js';
import { sleep, spawnCli, waitWhileRunning } from '../helpers/cli-child.js';
import { FaultProxy, seededRandom, type Fault } from '../helpers/fault-proxy.js';
import { s3Backend, type TestRepository } from '../helpers/repo-backends.js';
import { s3TestEnv, SKIPPED_S3 } from '../helpers/s3-test-env.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';

const MiB = 1024 * 1024;
const SEED = Number(process.env['COFFRE_TEST_SEED'] ?? 20261129);
const ORPHAN_WARNING = /^coffre: warning: data\/\S+: pack is not in any index/;
const env = s3TestEnv();
const backend = s3Backend();

describe.skipIf(backend.skipped)(`S3 through a faulty network, through the CLI (seed ${SEED})`, () => {
  const e = env ?? SKIPPED_S3;
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const pw = passwordFile(dir);
  let proxy: FaultProxy;
  let repo: TestRepository;
  let stateDir: string;
  const opts = (location: string) => ['--repo', location, '--password-file', pw, '--state-dir', stateDir];
  /** The same repository, reached through the proxy. */
  const viaProxy = () => repo.location.replace(e.endpoint, proxy.endpoint);

  beforeAll(async () => {
    await backend.setUp();
    for (let i = 0; i < 4; i++) write(`${src}/scans/${i}.bin`, seededBytes(16 * MiB, 700 + i));
    for (let i = 0; i < 30; i++) write(`${src}/identities/${i}.csv`, csvText(30_000 + i * 997, 800 + i));
  });
  afterAll(() => backend.tearDown());
  beforeEach(async (ctx) => {
    proxy = await FaultProxy.start(e.endpoint);
    repo = backend.newRepository(ctx.task.name.slice(0, 12).replace(/\W+/g, '-'));
    stateDir = path.join(dir, `state-${Math.random().toString(36).slice(2, 8)}`);
    await cliOk(['init', ...opts(repo.location), '--kdf', 'min']);
  });
  afterEach(() => proxy.close());

  /** Runs a command until it succeeds (at most `max` times); every failure must be one clear line. */
  async function untilDone(args: string[], failureCodes: number[], max = 5): Promise<string[]> {
    const outcomes: string[] = [];
    for (let i = 0; i < max; i++) {
      const r = await runCli(args);
      if (r.code === 0) return [...outcomes, 'done'];
      expect(failureCodes, r.stderr).toContain(r.code);
      if (r.code === 5) expectOneErrorLine(r);
      else expect(r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('coffre: ')), r.stderr).toEqual([]);
      outcomes.push(r.stderr.trim());
    }
    return outcomes;
  }

  /** check --read-data from the direct endpoint, and a restore: both exact. */
  async function expectIntactAndRestorable(restoreVia: string, log: string): Promise<void> {
    const check = await runCli(['check', '--read-data', ...opts(repo.location)]);
    expect(check.code, `${log}\n${check.stderr}`).toBe(0);
    // A pack whose upload landed although its answer never came back is stored in no index:
    // harmless, named as a warning. Anything else is not.
    expect(check.stderr.split('\n').filter((l) => l !== '' && !ORPHAN_WARNING.test(l)), log).toEqual([]);
    const target = path.join(dir, `restored-${Math.random().toString(36).slice(2, 8)}`);
    const restored = await untilDone(['restore', 'latest', '--target', target, ...opts(restoreVia)], [3, 5]);
    expect(restored.at(-1), restored.join('\n')).toBe('done');
    expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
  }

  it('connections broken every 2-40 MiB: each backup completes, or fails with one line and the next resumes', async () => {
    const rnd = seededRandom(SEED);
    // Packs are 16-24 MiB. With breaks every 2-24 MiB a pack near 24 MiB could never get
    // through, and five runs in a row ended on a pack that gave up (4 runs of this test in 19,
    // before and after 2026-11-29's changes alike); with 2-40 MiB alone, most runs met only two
    // breaks. So the first four connections break within 1-8 MiB, in the first pack uploads.
    proxy.plan = (c) => ({ kind: 'reset', afterBytes: Math.floor((c < 4 ? 1 + rnd() * 7 : 2 + rnd() * 38) * MiB) });
    const outcomes = await untilDone(['backup', ...opts(viaProxy()), src], [5]);
    const log = outcomes.join('\n');
    expect(outcomes.at(-1), log).toBe('done');
    expect(proxy.stats.faults, log).toBeGreaterThanOrEqual(3);
    const snapshots = JSON.parse((await cliOk(['snapshots', '--json', ...opts(repo.location)])).stdout) as unknown[];
    expect(snapshots, log).toHaveLength(1); // one per completed run, none for a failed one
    await expectIntactAndRestorable(viaProxy(), `${log}\nfaults: ${proxy.stats.faults}`); // the restore goes through the same network
  });

  // A canned 403 to a HEAD (the check before each put) has no body, so no error code.
  const losses: [string, Fault, RegExp][] = [
    ['the network to the storage is cut', { kind: 'reset', afterBytes: 0 }, /network error talking to the S3 endpoint: .*\(gave up after 6 attempts\)$/],
    ['the storage starts refusing the credentials', { kind: 'respond', status: 403, code: 'AccessDenied' }, /: access denied \((AccessDenied|no error code), HTTP 403\)$/],
  ];
  for (const [what, fault, message] of losses) {
    it(`${what} in the middle of a backup: one line, exit 5, no snapshot; the next run completes`, async () => {
      const cli = spawnCli(['backup', ...opts(viaProxy()), src]);
      const packs = async () => (await repo.keys()).filter((k) => k.startsWith('data/')).length;
      expect(await waitWhileRunning(cli, async () => (await packs()) >= 1), 'the backup finished before any pack was stored').toBe(true);
      // Nothing moves from here on, so the backup cannot finish while the test looks (it did,
      // sometimes, in the 150 ms below); the pack seen stored is journaled before its upload.
      proxy.hold();
      await sleep(150);
      expect(cli.exited(), 'the backup finished before the storage was lost').toBe(false);
      proxy.plan = () => fault;
      proxy.dropConnections();
      const failed = await cli.done;
      expect(failed.code, failed.stderr).toBe(5);
      expectOneErrorLine(failed);
      expect(failed.stderr.trim()).toMatch(message);
      expect(JSON.parse((await cliOk(['snapshots', '--json', ...opts(repo.location)])).stdout)).toEqual([]);

      const resumed = await cliOk(['backup', ...opts(repo.location), src]);
      expect(resumed.stderr).toMatch(/resumed: \d+ pack\(s\) stored by an interrupted backup/);
      proxy.plan = () => ({ kind: 'pass' });
      await expectIntactAndRestorable(repo.location, failed.stderr);
    });
  }
});

function expectOneErrorLine(r: CliResult): void {
  expect(r.stderr, r.stderr).toMatch(/^coffre: [^\n]+\n$/);
}
