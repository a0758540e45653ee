/**
 * The catalog as the agent's fast local memory, through the real CLI: unchanged files are
 * not read again (bytesRead 0), changed ones are read and only new chunks uploaded, the
 * counts are honest; deleting the state directory loses nothing; find and diff; a second
 * writer is refused with exit 11 while readers go on, and a dead writer's lock is cleared.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { sleep, spawnCli } from '../helpers/cli-child.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Summary {
  snapshotId: string;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  bytesRead: number;
  bytesAdded: number;
  totalFiles: number;
  totalBytes: number;
}

describe('incremental backups with the catalog', () => {
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const repo = path.join(dir, 'repo');
  const state = path.join(dir, 'state');
  const pw = passwordFile(dir);
  const common = ['--repo', repo, '--password-file', pw, '--state-dir', state];
  const backup = async (): Promise<Summary> => JSON.parse((await cliOk(['backup', '--json', ...common, src])).stdout) as Summary;
  const snapshots: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 300; i++) write(`${src}/small/${String(i).padStart(3, '0')}.csv`, csvText(1000 + i * 37, i));
    write(`${src}/medium/text.csv`, csvText(3 * MiB, 1000));
    write(`${src}/medium/random.bin`, seededBytes(2 * MiB + 12345, 1001));
    write(`${src}/empty`, '');
    fs.symlinkSync('small/000.csv', `${src}/link`);
    await cliOk(['init', ...common, '--kdf', 'min']);
  });

  it('reads everything once, then nothing while nothing changes', async () => {
    const first = await backup();
    snapshots.push(first.snapshotId);
    expect(first.filesNew).toBe(303);
    expect(first.bytesRead).toBe(first.totalBytes);
    expect(fs.readdirSync(state).filter((f) => f.endsWith('.sqlite'))).toHaveLength(1);

    const second = await backup();
    snapshots.push(second.snapshotId);
    expect(second).toMatchObject({ filesNew: 0, filesChanged: 0, filesUnmodified: 303, bytesRead: 0 });
    expect(second.totalBytes).toBe(first.totalBytes);
    expect(second.bytesAdded).toBeLessThan(64 * KiB); // at most a tree pack for the changed ancestors
  });

  it('reads only what changed, and uploads only new chunks', async () => {
    // Same size, same mtime, new content: the ctime still tells.
    const f = `${src}/small/007.csv`;
    const st = fs.statSync(f);
    const bytes = fs.readFileSync(f);
    bytes[10] = bytes[10] === 0x41 ? 0x42 : 0x41;
    fs.writeFileSync(f, bytes);
    fs.utimesSync(f, st.atime, st.mtime);
    write(`${src}/small/new.csv`, csvText(5000, 77));
    fs.rmSync(`${src}/small/100.csv`);
    // Touched but unchanged: read again, found unmodified.
    const touched = `${src}/medium/random.bin`;
    fs.utimesSync(touched, new Date(), new Date());

    const s = await backup();
    snapshots.push(s.snapshotId);
    expect(s).toMatchObject({ filesNew: 1, filesChanged: 1, filesUnmodified: 301 });
    expect(s.bytesRead).toBe(bytes.length + 5000 + fs.statSync(touched).size);
    expect(s.bytesAdded).toBeLessThan(256 * KiB);
  });

  it('diff shows what changed between two snapshots; find says which snapshots hold a path', async () => {
    const d = JSON.parse((await cliOk(['diff', '--json', ...common, snapshots[1]!.slice(0, 8), snapshots[2]!])).stdout);
    const byKind = (k: string) => d.changes.filter((c: { kind: string }) => c.kind === k).map((c: { path: string }) => c.path);
    expect(byKind('added')).toEqual([`${src}/small/new.csv`]);
    expect(byKind('removed')).toEqual([`${src}/small/100.csv`]);
    expect(byKind('modified')).toEqual([`${src}/small/007.csv`]);
    expect(byKind('metadata')).toContain(`${src}/medium/random.bin`);
    expect(d.summary).toMatchObject({ added: 1, removed: 1, modified: 1 });
    const same = JSON.parse((await cliOk(['diff', '--json', ...common, snapshots[0]!, snapshots[1]!])).stdout);
    expect(same.changes.filter((c: { path: string }) => c.path.startsWith(src))).toEqual([]);

    const text = await cliOk(['diff', ...common, snapshots[1]!, 'latest']);
    expect(text.stdout).toContain(`+ ${src}/small/new.csv`);
    expect(text.stdout).toContain(`- ${src}/small/100.csv`);
    expect(text.stdout).toContain(`M ${src}/small/007.csv`);

    const found = JSON.parse((await cliOk(['find', '--json', ...common, '100.csv'])).stdout);
    expect(found.map((r: { snapshotId: string }) => r.snapshotId)).toEqual(snapshots.slice(0, 2));
    expect(found[0].matches).toEqual([expect.objectContaining({ path: `${src}/small/100.csv`, type: 'file', size: 1000 + 100 * 37 })]);
    const news = JSON.parse((await cliOk(['find', '--json', ...common, `${src}/small/new.*`])).stdout);
    expect(news.map((r: { snapshotId: string }) => r.snapshotId)).toEqual([snapshots[2]]);
    const csvInLatest = JSON.parse((await cliOk(['find', '--json', ...common, '--snapshot', 'latest', '*.CSV', '-i'])).stdout);
    expect(csvInLatest[0].matches).toHaveLength(301);
    const relative = await cliOk(['find', ...common, 'medium/*.bin']);
    expect(relative.stdout).toContain(`${src}/medium/random.bin`);
    expect(relative.stdout).toContain('3 match(es) in 3 snapshot(s)');
  });

  it('loses nothing when the state directory is deleted: files are read again, nothing is uploaded again', async () => {
    const before = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout);
    fs.rmSync(state, { recursive: true });
    const listed = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout);
    expect(listed).toEqual(before);
    const s = await backup();
    snapshots.push(s.snapshotId);
    expect(s.filesUnmodified).toBe(303);
    expect(s.bytesRead).toBe(s.totalBytes);
    expect(s.bytesAdded).toBeLessThan(64 * KiB);
    const again = await backup();
    snapshots.push(again.snapshotId);
    expect(again.bytesRead).toBe(0);
    const target = path.join(dir, 'restored');
    await cliOk(['restore', 'latest', ...common, '--target', target, '--verify']);
    expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
  });

  it('refuses a second writer with exit 11 while readers go on; clears the lock of a killed writer', async () => {
    const pause = path.join(dir, 'pause-before-snapshot');
    write(`${src}/small/during.csv`, csvText(2000, 5));
    const first = spawnCli(['backup', '--json', ...common, src], { COFFRE_TEST_PAUSE_BEFORE_SNAPSHOT: pause });
    while (!fs.existsSync(pause)) {
      if (first.exited()) throw new Error(`backup ended before pausing: ${(await first.done).stderr}`);
      await sleep(20);
    }
    const second = await runCli(['backup', ...common, src]);
    expect(second.code).toBe(11);
    expect(second.stderr).toMatch(/^coffre: the catalog of repository [0-9a-f]{8} in .* is locked by "backup" \(pid \d+ on .*\) \(wait for it to finish\)\n$/);
    // Readers are not blocked by the running backup.
    const t0 = Date.now();
    const listed = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout);
    expect(listed).toHaveLength(snapshots.length);
    await cliOk(['ls', 'latest', ...common]);
    const info = JSON.parse((await cliOk(['catalog', 'info', '--json', ...common])).stdout);
    expect(info.lock).toMatchObject({ command: 'backup', pid: first.child.pid });
    expect(Date.now() - t0).toBeLessThan(30_000);
    fs.rmSync(pause);
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    snapshots.push(JSON.parse(done.stdout).snapshotId);

    // Killed while holding the lock: the next writer sees the holder is gone and goes on.
    write(`${src}/small/killed.csv`, csvText(2000, 6));
    const victim = spawnCli(['backup', ...common, src], { COFFRE_TEST_PAUSE_BEFORE_SNAPSHOT: pause });
    while (!fs.existsSync(pause)) await sleep(20);
    victim.child.kill('SIGKILL');
    await victim.done;
    fs.rmSync(pause, { force: true });
    const after = await runCli(['backup', '--json', ...common, src]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toMatch(/took over the lock left by "backup" \(pid \d+\), which is no longer running/);
    const runs = JSON.parse((await cliOk(['catalog', 'info', '--json', ...common])).stdout).runs;
    expect(runs.map((r: { result: string }) => r.result).slice(0, 3)).toEqual(['ok', 'interrupted', 'ok']);
    const check = await runCli(['check', '--read-data', ...common]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toBe('');
  });
});
