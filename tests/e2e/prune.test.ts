/**
 * `coffre prune` on a local repository, through the real CLI: two-phase deletion with a
 * grace period and a repack that restores bit-exact; a backup that deduplicated against a
 * pack just planned for deletion keeps it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk } from '../helpers/cli.js';
import { spawnCli, waitWhileRunning } from '../helpers/cli-child.js';
import { backup, expectAllRestore, json, newRepo, packCount } from '../helpers/prune.js';
import { describeTree, seededBytes, write, type ItemInfo } from '../helpers/tree.js';

describe('prune (local repository)', () => {
  it('plans first, deletes only after the grace period, repacks mostly-unused packs, and everything kept restores bit-exact', async () => {
    const r = await newRepo();
    const expected = new Map<string, Map<string, ItemInfo>>();
    write(path.join(r.src, 'big-old.bin'), seededBytes(3 * 1024 * 1024, 1));
    write(path.join(r.src, 'small.bin'), seededBytes(100 * 1024, 2));
    // One worker thread fills one pack with both files (with two, they may land in two packs).
    const first = await backup(r, expected, { COFFRE_WORKERS: '1' });
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

    expect((await cliOk(['prune', '--grace', '1h', '--dry-run', ...r.common])).stderr).not.toMatch(/--grace/);
    expect((await cliOk(['prune', '--grace', '0s', '--dry-run', ...r.common])).stderr).toMatch(/--grace 0s: a backup running elsewhere .* may lose packs/);

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
