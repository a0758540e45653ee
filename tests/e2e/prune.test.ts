/**
 * `coffre prune` on a local repository, through the real CLI: two-phase deletion with a
 * grace period, repack that restores bit-exact, a prune killed (SIGKILL) at each step,
 * and prune running while backups run — after which every snapshot still restores.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
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
});
