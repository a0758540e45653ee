/**
 * DESIGN invariant 8, the catalog is a cache: the machine and its state directory are
 * lost; a fresh machine with only the repository location, the storage credentials and
 * the passphrase lists, browses and restores everything, and `coffre catalog rebuild`
 * reconstructs the catalog. A catalog that has fallen behind the repository (another
 * machine backed up; index objects were compacted away) catches up by itself. On a local
 * directory and on S3 (RGW).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository } from '../../src/repository/repository.js';
import { indexKey } from '../../src/repository/layout.js';
import { openStorage } from '../../src/storage/open-storage.js';
import type { IndexedPack } from '../../src/repository/index-file.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { repoBackends, type TestRepository } from '../helpers/repo-backends.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';

const PASSWORD = 'disaster recovery passphrase';

for (const backend of repoBackends()) {
  describe.skipIf(backend.skipped)(`disaster recovery from the repository alone (${backend.name})`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir, PASSWORD);
    let repo: TestRepository;
    const on = (state: string) => ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, state)];
    const json = async (args: string[]) => JSON.parse((await cliOk(args)).stdout);
    const before: Record<string, unknown> = {};
    const ids: string[] = [];

    beforeAll(async () => {
      await backend.setUp();
      repo = backend.newRepository('dr');
      for (let i = 0; i < 60; i++) write(`${src}/service-${i % 3}/patients-${String(i).padStart(4, '0')}.csv`, csvText(4000 + i * 91, i));
      write(`${src}/scans/scan.bin`, seededBytes(3 * 1024 * 1024, 77));
      await cliOk(['init', ...on('server'), '--kdf', 'min']);
      ids.push((await json(['backup', '--json', ...on('server'), src])).snapshotId);
      write(`${src}/service-1/patients-0100.csv`, csvText(5000, 100));
      fs.rmSync(`${src}/service-2/patients-0002.csv`);
      ids.push((await json(['backup', '--json', ...on('server'), src])).snapshotId);
      fs.appendFileSync(`${src}/service-0/patients-0003.csv`, 'DUPONT,JEAN,1970-01-01\n');
      ids.push((await json(['backup', '--json', ...on('server'), src])).snapshotId);

      before.snapshots = await json(['snapshots', '--json', ...on('server')]);
      before.ls = (await cliOk(['ls', 'latest', '-l', ...on('server')])).stdout;
      before.find = await json(['find', '--json', ...on('server'), 'patients-000?.csv']);
      before.diff = await json(['diff', '--json', ...on('server'), ids[0]!, ids[2]!]);
      // The server burns down: its state directory is gone with it.
      fs.rmSync(path.join(dir, 'server'), { recursive: true });
    });
    afterAll(() => backend.tearDown());

    it('lists, browses, finds, diffs and restores on a fresh machine with no catalog', async () => {
      expect(fs.existsSync(path.join(dir, 'fresh'))).toBe(false);
      expect(await json(['snapshots', '--json', ...on('fresh')])).toEqual(before.snapshots);
      expect((await cliOk(['ls', 'latest', '-l', ...on('fresh')])).stdout).toBe(before.ls);
      expect(await json(['find', '--json', ...on('fresh'), 'patients-000?.csv'])).toEqual(before.find);
      expect(await json(['diff', '--json', ...on('fresh'), ids[0]!, ids[2]!])).toEqual(before.diff);
      const target = path.join(dir, 'restored-fresh');
      const r = await cliOk(['restore', 'latest', ...on('fresh'), '--target', target, '--verify']);
      expect(r.stdout).toContain('verified: 61 file(s) identical');
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
    });

    it('works without any usable state directory, from the repository alone', async () => {
      const blocked = path.join(dir, 'not-a-directory');
      fs.writeFileSync(blocked, 'a file where the state directory should be');
      const args = ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(blocked, 'state')];
      const listed = await runCli(['snapshots', '--json', ...args]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual(before.snapshots);
      expect(listed.stderr).toMatch(/^coffre: cannot use the catalog .*; working from the repository alone/);
      const target = path.join(dir, 'restored-stateless');
      const r = await runCli(['restore', 'latest', ...args, '--target', target]);
      expect(r.code, r.stderr).toBe(0);
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
    });

    it('rebuilds the catalog from the repository with "catalog rebuild"', async () => {
      const r = await json(['catalog', 'rebuild', '--json', ...on('rebuilt')]);
      expect(r).toMatchObject({ snapshots: 3, unindexedPacks: 0, unreadablePacks: [] });
      expect(r.trees).toBeGreaterThanOrEqual(5);
      expect(r.blobs).toBeGreaterThan(60);
      expect(r.catalog.rebuiltAt).toMatch(/^\d{4}-/);
      // Warm: browsing needs no tree from storage, and answers the same.
      expect(await json(['find', '--json', ...on('rebuilt'), 'patients-000?.csv'])).toEqual(before.find);
      expect(await json(['diff', '--json', ...on('rebuilt'), ids[0]!, ids[2]!])).toEqual(before.diff);
      // Rebuilding again starts from scratch and ends the same.
      const again = await json(['catalog', 'rebuild', '--json', ...on('rebuilt')]);
      expect({ ...again, durationMs: 0, catalog: undefined }).toEqual({ ...r, trees: again.trees, durationMs: 0, catalog: undefined });
      // The first backup after a rebuild reads the files again (the file-change cache is local
      // memory) but uploads nothing again; the next one reads nothing.
      const b1 = await json(['backup', '--json', ...on('rebuilt'), src]);
      expect(b1.bytesRead).toBe(b1.totalBytes);
      expect(b1.bytesAdded).toBeLessThan(64 * 1024);
      const b2 = await json(['backup', '--json', ...on('rebuilt'), src]);
      expect(b2.bytesRead).toBe(0);
    });

    it('catches up when other machines add snapshots and when index objects are compacted away', async () => {
      const info = async () => json(['catalog', 'info', '--json', ...on('fresh')]);
      const known = await json(['snapshots', '--json', ...on('fresh')]);
      // Another machine backs up into the same repository.
      write(`${src}/service-2/late.csv`, csvText(3000, 555));
      const other = await json(['backup', '--json', ...on('other-machine'), src]);
      const now = await json(['snapshots', '--json', ...on('fresh')]);
      expect(now.map((s: { id: string }) => s.id)).toEqual([...known.map((s: { id: string }) => s.id), other.snapshotId]);
      const indexesBefore = (await info()).indexObjects;
      expect(indexesBefore).toBeGreaterThanOrEqual(5);

      // A compaction (as a future prune would do it): one index object replaces all the others.
      const storage = await openStorage(repo.location);
      const r = await Repository.open(storage, Buffer.from(PASSWORD), { workers: 0 });
      const old = await r.listIndexIds();
      const packs = new Map<string, IndexedPack>();
      for (const id of old) for (const p of (await r.readIndex(id)).packs) packs.set(p.packId, p);
      await r.saveIndex({ supersedes: old, packs: [...packs.values()] });
      for (const id of old) await storage.delete(indexKey(id));
      await r.close();
      await storage.close();

      const target = path.join(dir, 'restored-after-compaction');
      await cliOk(['restore', 'latest', ...on('fresh'), '--target', target, '--verify']);
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
      expect((await info()).indexObjects).toBe(1);
      const check = await runCli(['check', '--read-data', ...on('fresh')]);
      expect(check.code, check.stderr).toBe(0);
    });
  });
}
