/**
 * `coffre prune` on a local repository, through the real CLI: two-phase deletion with a
 * grace period, repack that restores bit-exact, a prune killed (SIGKILL) at each step,
 * and prune running while backups run — after which every snapshot still restores.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { sleep, spawnCli, waitWhileRunning, type RunningCli } from '../helpers/cli-child.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees, seededBytes, write, type ItemInfo } from '../helpers/tree.js';

interface Repo {
  dir: string;
  src: string;
  common: string[];
}

async function newRepo(): Promise<Repo> {
  const dir = tempDir('coffre-prune-');
  const src = path.join(dir, 'src');
  const common = ['--repo', path.join(dir, 'repo'), '--password-file', passwordFile(dir), '--state-dir', path.join(dir, 'state')];
  await cliOk(['init', ...common, '--kdf', 'min']);
  return { dir, src, common };
}

const json = async (args: string[]) => JSON.parse((await cliOk(args)).stdout);
const snapshots = async (r: Repo) => (await json(['snapshots', '--json', ...r.common])) as { id: string }[];
const packCount = (r: Repo) => fs.readdirSync(path.join(r.dir, 'repo', 'data')).flatMap((d) => fs.readdirSync(path.join(r.dir, 'repo', 'data', d))).length;

/** Restores each snapshot and compares it with what the source held when it was taken. */
async function expectAllRestore(r: Repo, expected: Map<string, Map<string, ItemInfo>>): Promise<void> {
  for (const s of await snapshots(r)) {
    const want = expected.get(s.id);
    expect(want, `snapshot ${s.id} is one the test took`).toBeDefined();
    const target = path.join(r.dir, `restore-${s.id.slice(0, 8)}-${Math.random().toString(36).slice(2)}`);
    await cliOk(['restore', s.id, '--target', target, ...r.common]);
    expect(diffTrees(want!, describeTree(path.join(target, r.src)))).toEqual([]);
  }
}

async function backup(r: Repo, expected: Map<string, Map<string, ItemInfo>>): Promise<string> {
  const out = await json(['backup', '--json', ...r.common, r.src]);
  const id = (out.snapshot?.id ?? out.snapshotId ?? out.id) as string;
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  expected.set(id, describeTree(r.src));
  return id;
}

describe('prune (local repository)', () => {
  it('plans first, deletes only after the grace period, repacks mostly-unused packs, and everything kept restores bit-exact', async () => {
    const r = await newRepo();
    const expected = new Map<string, Map<string, ItemInfo>>();
    write(path.join(r.src, 'big-old.bin'), seededBytes(3 * 1024 * 1024, 1));
    write(path.join(r.src, 'small.bin'), seededBytes(100 * 1024, 2));
    const first = await backup(r, expected);
    fs.rmSync(path.join(r.src, 'big-old.bin'));
    write(path.join(r.src, 'new.bin'), seededBytes(2 * 1024 * 1024, 3));
    await backup(r, expected);
    const packsBefore = packCount(r);

    expect((await json(['prune', '--dry-run', '--json', ...r.common])).planned).toBeUndefined(); // every pack is in use
    await cliOk(['forget', '--keep-last', '1', ...r.common]);
    expected.delete(first);

    const dry = await json(['prune', '--dry-run', '--json', ...r.common]);
    expect(dry.planned.repackPacks).toBeGreaterThanOrEqual(1); // big-old.bin and small.bin shared a pack
    expect(dry.planned.rewriteBytes).toBeGreaterThan(100 * 1024);
    expect(dry.planned.rewriteBytes).toBeLessThan(1024 * 1024);
    expect(dry.planned.freeBytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(packCount(r)).toBe(packsBefore);
    expect(fs.existsSync(path.join(r.dir, 'repo', 'prune'))).toBe(false);

    // Phase 1: a plan, a repack, nothing deleted.
    const planned = await json(['prune', '--grace', '1h', '--json', ...r.common]);
    expect(planned.planned.id).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readdirSync(path.join(r.dir, 'repo', 'prune'))).toEqual([planned.planned.id]);
    expect(packCount(r)).toBeGreaterThan(packsBefore); // the repacked copy was added
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);

    // Within the grace period, a second run deletes nothing and says when it will.
    const waiting = await json(['prune', '--grace', '1h', '--json', ...r.common]);
    expect(waiting.deleted.packs).toBe(0);
    expect(waiting.pending[0].id).toBe(planned.planned.id);
    expect(waiting.planned).toBeUndefined();
    const text = (await cliOk(['prune', '--grace', '1h', ...r.common])).stdout;
    expect(text).toMatch(/plan [0-9a-f]{8} \(\d+ pack\(s\), .*\) waits until \d{4}-/);

    // Past the grace period (here: a grace of 0s), the plan is carried out.
    const done = await json(['prune', '--grace', '0s', '--json', ...r.common]);
    expect(done.deleted.plans).toBe(1);
    expect(done.deleted.packs).toBeGreaterThanOrEqual(1);
    expect(done.deleted.indexes).toBeGreaterThanOrEqual(1);
    expect(done.deleted.bytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(fs.readdirSync(path.join(r.dir, 'repo', 'prune'))).toEqual([]);
    expect(packCount(r)).toBeLessThan(packsBefore + 1);
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);
    // A fresh state directory (another admin host) reads the pruned repository too.
    const fresh = [...r.common.slice(0, 4), '--state-dir', path.join(r.dir, 'state-2')];
    await cliOk(['check', '--read-data', ...fresh]);
    expect((await json(['prune', '--dry-run', '--json', ...r.common])).planned).toBeUndefined();
  });

  it('killed (SIGKILL) at every step, leaves a repository that checks clean and restores, and the next run finishes the job', async () => {
    const r = await newRepo();
    const expected = new Map<string, Map<string, ItemInfo>>();
    write(path.join(r.src, 'old.bin'), seededBytes(2 * 1024 * 1024, 11));
    write(path.join(r.src, 'keep.bin'), seededBytes(200 * 1024, 12));
    const first = await backup(r, expected);
    fs.rmSync(path.join(r.src, 'old.bin'));
    write(path.join(r.src, 'more.bin'), seededBytes(1024 * 1024, 13));
    await backup(r, expected);
    await cliOk(['forget', '--keep-last', '1', ...r.common]);
    expected.delete(first);

    const killAt = async (step: string, grace: string): Promise<void> => {
      const pause = path.join(r.dir, `pause-${step}`);
      const cli: RunningCli = spawnCli(['prune', '--grace', grace, ...r.common], { COFFRE_TEST_PAUSE_IN_PRUNE: `${step}:${pause}` });
      const reached = await waitWhileRunning(cli, async () => fs.existsSync(pause), 10);
      expect(reached, `prune ended before "${step}": ${cli.exited() ? (await cli.done).stderr : ''}`).toBe(true);
      cli.child.kill('SIGKILL');
      expect((await cli.done).signal).toBe('SIGKILL');
      fs.rmSync(pause, { force: true });
      await cliOk(['check', '--read-data', ...r.common]);
      await expectAllRestore(r, expected);
    };
    // Phase 1: after the repack, then after superseding (before the plan object exists).
    await killAt('repacked', '1h');
    await killAt('superseded', '1h');
    await cliOk(['prune', '--grace', '1h', ...r.common]); // writes the plan
    expect(fs.readdirSync(path.join(r.dir, 'repo', 'prune')).length).toBeGreaterThanOrEqual(1);
    // Phase 2: after deleting index objects, then after deleting packs (before the plan goes).
    await killAt('indexes-deleted', '0s');
    await killAt('packs-deleted', '0s');
    for (let i = 0; i < 3; i++) await cliOk(['prune', '--grace', '0s', ...r.common]);
    const last = await json(['prune', '--dry-run', '--json', ...r.common]);
    expect(last.pending).toEqual([]);
    expect(last.planned).toBeUndefined();
    expect(fs.readdirSync(path.join(r.dir, 'repo', 'prune'))).toEqual([]);
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);
    // Nothing of old.bin is left: the repository holds about what the one snapshot needs.
    const stored = fs
      .readdirSync(path.join(r.dir, 'repo', 'data'))
      .flatMap((d) => fs.readdirSync(path.join(r.dir, 'repo', 'data', d)).map((f) => fs.statSync(path.join(r.dir, 'repo', 'data', d, f)).size))
      .reduce((a, b) => a + b, 0);
    expect(stored).toBeLessThan(2 * 1024 * 1024);
  });

  it('runs while backups run (separate processes, as on separate hosts), and afterwards every snapshot restores', async () => {
    const r = await newRepo();
    const expected = new Map<string, Map<string, ItemInfo>>();
    const agent = [...r.common.slice(0, 4), '--state-dir', path.join(r.dir, 'agent-state')];
    // Contents cycle through a few variants, so content that only a forgotten snapshot held
    // comes back: the case where a backup could deduplicate against a pack being pruned.
    const variant = (round: number) => {
      write(path.join(r.src, 'a.bin'), seededBytes(700 * 1024, 100 + (round % 3)));
      write(path.join(r.src, 'b.bin'), seededBytes(300 * 1024, 200 + (round % 4)));
      write(path.join(r.src, `round-${round % 5}.txt`), `round ${round}`);
    };
    variant(0);
    await backup({ ...r, common: agent }, expected);
    let stop = false;
    const backups = (async () => {
      for (let round = 1; !stop; round++) {
        variant(round);
        const want = describeTree(r.src);
        const out = await json(['backup', '--json', ...agent, r.src]);
        expected.set((out.snapshot?.id ?? out.snapshotId ?? out.id) as string, want);
      }
    })();
    let carriedOut = 0;
    const grace = '5s'; // longer than any of these backups runs
    for (let i = 0; i < 40 && carriedOut < 2; i++) {
      await cliOk(['forget', '--keep-last', '2', ...r.common]);
      const rep = await json(['prune', '--grace', grace, '--repack-threshold', '30', '--json', ...r.common]);
      carriedOut += rep.deleted.plans;
      await sleep(500);
    }
    stop = true;
    await backups;
    expect(carriedOut).toBeGreaterThanOrEqual(2);
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);
    await cliOk(['check', '--read-data', ...agent]); // the agent's catalog followed the deletions
    await expectAllRestore({ ...r, common: agent }, expected);
  });

  it('a backup that deduplicated against a pack just planned for deletion keeps it: readable during the grace period, kept after', async () => {
    const r = await newRepo();
    const expected = new Map<string, Map<string, ItemInfo>>();
    const agent = [...r.common.slice(0, 4), '--state-dir', path.join(r.dir, 'agent-state')];
    write(path.join(r.src, 'x.bin'), seededBytes(1024 * 1024, 31));
    const withX = await backup({ ...r, common: agent }, expected);
    fs.rmSync(path.join(r.src, 'x.bin'));
    write(path.join(r.src, 'y.bin'), seededBytes(100 * 1024, 32));
    await backup({ ...r, common: agent }, expected);
    await cliOk(['forget', '--keep-last', '1', ...r.common]);
    expected.delete(withX);

    // x.bin comes back; the backup loads the index (x.bin's pack still visible), stores
    // nothing new for it, and is held just before writing its snapshot.
    write(path.join(r.src, 'x.bin'), seededBytes(1024 * 1024, 31));
    const want = describeTree(r.src);
    const pause = path.join(r.dir, 'pause-backup');
    const cli = spawnCli(['backup', '--json', ...agent, r.src], { COFFRE_TEST_PAUSE_BEFORE_SNAPSHOT: pause });
    expect(await waitWhileRunning(cli, async () => fs.existsSync(pause), 10)).toBe(true);
    const planned = await json(['prune', '--grace', '0s', '--json', ...r.common]);
    expect(planned.planned.deletePacks).toBeGreaterThanOrEqual(1); // x.bin's pack is a candidate
    fs.rmSync(pause);
    const out = JSON.parse((await cli.done).stdout);
    const late = (out.snapshot?.id ?? out.snapshotId ?? out.id) as string;
    expected.set(late, want);

    // During the grace period the late snapshot restores (the hidden pack is still readable).
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);
    // The plan is due: x.bin's pack is found needed and kept, and visible again.
    const done = await json(['prune', '--grace', '0s', '--json', ...r.common]);
    expect(done.keptNeeded).toBeGreaterThanOrEqual(1);
    await cliOk(['check', '--read-data', ...r.common]);
    await expectAllRestore(r, expected);
    const fresh = [...r.common.slice(0, 4), '--state-dir', path.join(r.dir, 'state-fresh')];
    await expectAllRestore({ ...r, common: fresh }, expected);
    // And a new backup deduplicates against it again instead of storing x.bin anew.
    const again = await json(['backup', '--json', ...agent, r.src]);
    expect(JSON.stringify(again)).toMatch(/"bytesAdded":\s*\d{1,5}[,}]/);
  });
});
