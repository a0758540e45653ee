/**
 * DESIGN invariant 5, on a local directory and on S3 (RGW): a real `coffre backup` child is killed with
 * SIGKILL at chosen points — while it chunks (before any pack is stored), between pack
 * uploads, and just before the snapshot is written (the test pause hook) — then run again.
 * After the kill the repository passes `check --read-data`; after the next run it passes
 * with nothing to report, restores bit for bit, and no blob is stored twice: every pack
 * the killed run stored was reused, whether the catalog survived (its pack journal) or not
 * (packs found by their headers). Random kill instants on S3: s3-crash-resume.test.ts.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository } from '../../src/repository/repository.js';
import { openStorage } from '../../src/storage/open-storage.js';
import type { PackId } from '../../src/domain/ids.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { sleep, spawnCli, waitWhileRunning, type RunningCli } from '../helpers/cli-child.js';
import { repoBackends, type TestRepository } from '../helpers/repo-backends.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';

const MiB = 1024 * 1024;
const PASSWORD = 'crash resume passphrase';

type KillPoint = 'while chunking' | 'between pack uploads' | 'just before the snapshot';

for (const backend of repoBackends()) describe.skipIf(backend.skipped)(`a backup killed with SIGKILL, then run again (${backend.name})`, () => {
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const pw = passwordFile(dir, PASSWORD);

  afterAll(() => backend.tearDown());
  beforeAll(async () => {
    await backend.setUp();
    // Incompressible data: about five 16 MiB packs, so there are pack boundaries to kill at.
    for (let i = 0; i < 5; i++) write(`${src}/large/${i}.bin`, seededBytes(16 * MiB, 900 + i));
    for (let i = 0; i < 40; i++) write(`${src}/small/${i}.csv`, csvText(20_000 + i * 1000, 950 + i));
  });

  const packsIn = async (repo: TestRepository): Promise<{ key: string; size: number }[]> =>
    (await repo.objects()).filter((o) => o.key.startsWith('data/'));

  const runningInCatalog = (state: string): boolean => {
    const file = fs.existsSync(state) ? fs.readdirSync(state).find((f) => f.endsWith('.sqlite')) : undefined;
    if (!file) return false;
    const db = new Database(path.join(state, file), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM runs WHERE kind = 'backup' AND result = 'running'").get() as { n: number }).n > 0;
    } catch {
      return false; // not migrated yet
    } finally {
      db.close();
    }
  };

  /** Every data blob of every pack in storage, read from the packs' own headers. */
  async function dataBlobsPerPack(repo: TestRepository): Promise<Map<string, number>> {
    const storage = await openStorage(repo.location);
    const r = await Repository.open(storage, Buffer.from(PASSWORD), { workers: 0 });
    const seen = new Map<string, number>();
    for (const p of await packsIn(repo)) {
      for (const e of await r.readPackHeader(path.basename(p.key) as PackId, p.size)) {
        if (e.type === 'data') seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      }
    }
    await r.close();
    await storage.close();
    return seen;
  }

  async function killAt(point: KillPoint, repo: TestRepository, state: string): Promise<RunningCli> {
    const pause = path.join(dir, `pause-${path.basename(state)}`);
    const env = point === 'just before the snapshot' ? { COFFRE_TEST_PAUSE_BEFORE_SNAPSHOT: pause } : {};
    const cli = spawnCli(['backup', '--repo', repo.location, '--password-file', pw, '--state-dir', state, src], env);
    const reached = await waitWhileRunning(cli, async () => {
      if (point === 'while chunking') return runningInCatalog(state);
      if (point === 'between pack uploads') return (await packsIn(repo)).length >= 2;
      return fs.existsSync(pause);
    }, 10);
    expect(reached, `the backup ended before "${point}": ${cli.exited() ? (await cli.done).stderr : ''}`).toBe(true);
    if (point === 'while chunking') await sleep(150);
    cli.child.kill('SIGKILL');
    const end = await cli.done;
    expect(end.signal).toBe('SIGKILL');
    fs.rmSync(pause, { force: true });
    return cli;
  }

  const cases: { point: KillPoint; catalog: 'kept' | 'lost' }[] = [
    { point: 'while chunking', catalog: 'kept' },
    { point: 'between pack uploads', catalog: 'kept' },
    { point: 'just before the snapshot', catalog: 'kept' },
    { point: 'between pack uploads', catalog: 'lost' },
    { point: 'just before the snapshot', catalog: 'lost' },
  ];

  for (const { point, catalog } of cases) {
    it(`killed ${point}, catalog ${catalog}: check passes, the next run reuses every stored pack, restore is exact`, async () => {
      const name = `${point.replaceAll(' ', '-')}-${catalog}`;
      const repo = backend.newRepository(name);
      const state = path.join(dir, `state-${name}`);
      const common = ['--repo', repo.location, '--password-file', pw, '--state-dir', state];
      await cliOk(['init', ...common, '--kdf', 'min']);

      await killAt(point, repo, state);
      const killedPacks = await packsIn(repo);
      const killedBytes = killedPacks.reduce((n, p) => n + p.size, 0);
      if (point === 'between pack uploads' || point === 'just before the snapshot') expect(killedPacks.length).toBeGreaterThanOrEqual(2);
      expect(JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout)).toEqual([]);
      const checkKilled = await runCli(['check', '--read-data', ...common]);
      expect(checkKilled.code, checkKilled.stderr).toBe(0);

      if (catalog === 'lost') fs.rmSync(state, { recursive: true, force: true });
      const resumed = await runCli(['backup', '--json', ...common, src]);
      expect(resumed.code, resumed.stderr).toBe(0);
      const s = JSON.parse(resumed.stdout) as { bytesAdded: number; filesNew: number };
      expect(s.filesNew).toBe(45);

      // Every pack of the killed run is still there; what the next run added is exactly its bytesAdded.
      const after = await packsIn(repo);
      for (const p of killedPacks) expect(after).toContainEqual(p);
      expect(after.reduce((n, p) => n + p.size, 0)).toBe(killedBytes + s.bytesAdded);
      // Nothing uploaded twice: no data blob is in two packs.
      const blobs = await dataBlobsPerPack(repo);
      expect([...blobs.values()].filter((n) => n > 1)).toEqual([]);
      expect(blobs.size).toBeGreaterThanOrEqual(45);

      const check = await runCli(['check', '--read-data', ...common]);
      expect(check.code, check.stderr).toBe(0);
      expect(check.stderr).toBe(''); // no "pack is not in any index" left
      const target = path.join(dir, `restored-${name}`);
      await cliOk(['restore', 'latest', ...common, '--target', target, '--verify']);
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
    });
  }
});
