/**
 * DESIGN invariant 5 on S3: a real `coffre backup` child is killed with SIGKILL at random
 * moments while it uploads packs to RGW, several times in a row, then run to the end. The
 * repository must pass `check --read-data`, restore bit for bit, and hold no pack twice over:
 * what the killed runs stored is adopted, not uploaded again — whether the catalog survived
 * (its pack journal) or was lost (the packs are found by listing and reading their headers).
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { sleep, spawnCli, waitWhileRunning } from '../helpers/cli-child.js';
import { seededRandom } from '../helpers/fault-proxy.js';
import { s3Backend, type TestRepository } from '../helpers/repo-backends.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';

const MiB = 1024 * 1024;
/** Random (incompressible) bytes, so the repository's size is predictable: about 6 packs. */
const LARGE_FILES = 6;
const LARGE_FILE_BYTES = 16 * MiB;
/** Three kills, each once this many new packs are stored in that run, plus a random delay. */
const KILL_AFTER_NEW_PACKS = [1, 1, 1];
const SEED = Number(process.env['COFFRE_TEST_SEED'] ?? 20261129);
const ORPHAN_WARNING = /^coffre: warning: (data\/\S+): pack is not in any index/;

const backend = s3Backend();

describe.skipIf(backend.skipped)(`a backup to S3 killed with SIGKILL while uploading, then run again (seed ${SEED})`, () => {
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const pw = passwordFile(dir);
  let sourceBytes = 0;

  beforeAll(async () => {
    await backend.setUp();
    for (let i = 0; i < LARGE_FILES; i++) write(`${src}/large/${i}.bin`, seededBytes(LARGE_FILE_BYTES, 500 + i));
    for (let i = 0; i < 40; i++) write(`${src}/small/${i}.csv`, csvText(20_000 + i * 1000, 600 + i));
    sourceBytes = [...describeTree(src).values()].reduce((n, item) => n + (item.type === 'file' ? item.size : 0), 0);
  });
  afterAll(() => backend.tearDown());

  const packsOf = async (repo: TestRepository) => (await repo.objects()).filter((o) => o.key.startsWith('data/'));

  /**
   * Backs up `src` again and again, killing each run once it has stored `n` new packs plus a
   * random 20-270 ms, then runs it to the end. Returns what happened, for failure messages.
   */
  async function backUpThroughKills(repo: TestRepository, args: () => string[], seed: number): Promise<string> {
    const rnd = seededRandom(seed);
    const kills: string[] = [];
    for (const n of KILL_AFTER_NEW_PACKS) {
      const before = (await packsOf(repo)).length;
      const cli = spawnCli(['backup', ...args(), src]);
      const reached = await waitWhileRunning(cli, async () => (await packsOf(repo)).length >= before + n);
      const delay = Math.round(20 + rnd() * 250);
      if (reached) await sleep(delay);
      cli.child.kill('SIGKILL');
      const r = await cli.done;
      if (r.signal !== 'SIGKILL') {
        expect(r.code, r.stderr).toBe(0); // it finished before the kill point: that was the last run
        return kills.join('; ');
      }
      kills.push(`killed with ${before}+${(await packsOf(repo)).length - before} packs stored (+${delay} ms)`);
    }
    const log = kills.join('; ');
    expect(kills.length, log).toBe(KILL_AFTER_NEW_PACKS.length);
    // No check that the killed runs left no snapshot: a kill can land after the snapshot is
    // written, while the process winds down, and then that run was complete. What a snapshot
    // refers to must be stored either way, which check --read-data below verifies.
    await cliOk(['backup', ...args(), src]);
    return log;
  }

  /** check --read-data and an exact restore; returns the packs `check` found in no index. */
  async function expectSoundAndExact(args: string[], log: string, tag: string): Promise<string[]> {
    const check = await runCli(['check', '--read-data', ...args]);
    expect(check.code, `${log}\n${check.stderr}`).toBe(0);
    const lines = check.stderr.split('\n').filter((l) => l !== '');
    expect(lines.filter((l) => !ORPHAN_WARNING.test(l)), log).toEqual([]);
    const target = path.join(dir, `restored-${tag}`);
    await cliOk(['restore', 'latest', '--target', target, ...args]);
    expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
    return lines.map((l) => ORPHAN_WARNING.exec(l)![1]!);
  }

  // Random data does not compress, so the packs hold the source plus pack padding (padmé, at
  // most ~3% at 16 MiB) and headers. Uploading again what a killed run stored would add at
  // least one 16 MiB pack per kill.
  const storedOnce = (bytes: number) => bytes < sourceBytes * 1.04 + 2 * MiB;

  it('resumes with the catalog lost before every run: every stored pack is found and adopted', async () => {
    const repo = backend.newRepository('crash-lost');
    let run = 0;
    const args = () => ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, `state-lost-${run++}`)];
    await cliOk(['init', ...args(), '--kdf', 'min']);
    const log = await backUpThroughKills(repo, args, SEED);
    const orphans = await expectSoundAndExact(args(), log, 'lost');
    expect(orphans, log).toEqual([]);
    const stored = (await packsOf(repo)).reduce((n, o) => n + o.size, 0);
    expect(storedOnce(stored), `${stored} bytes of packs for ${sourceBytes} bytes of source; ${log}`).toBe(true);
  });

  it('resumes with the catalog kept: the journaled packs are adopted, none is uploaded twice', async () => {
    const repo = backend.newRepository('crash-kept');
    const args = () => ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, 'state-kept')];
    await cliOk(['init', ...args(), '--kdf', 'min']);
    const log = await backUpThroughKills(repo, args, SEED + 1);
    const orphans = await expectSoundAndExact(args(), log, 'kept');
    // Each pack is journaled before its upload starts, so even one stored in the instant
    // before the kill is adopted by the next run: nothing is left unindexed or sent twice.
    expect(orphans, log).toEqual([]);
    const stored = (await packsOf(repo)).reduce((n, o) => n + o.size, 0);
    expect(storedOnce(stored), `${stored} bytes of packs for ${sourceBytes} bytes of source; ${log}`).toBe(true);
  });
});
