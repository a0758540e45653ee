/**
 * Write-only agents (docs/FORMAT.md §10, docs/SECURITY.md), through the real CLI, on a local
 * directory and on S3: an agent key adds backups and deduplicates through its catalog, but
 * cannot read any snapshot, tree or file content back, neither older ones nor its own; a
 * full key (admin passphrase) restores and checks everything, agent backups included.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { repoBackends } from '../helpers/repo-backends.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';
import { Repository } from '../../src/repository/repository.js';
import { openStorage } from '../../src/app/repo.js';
import { WriteOnlyError } from '../../src/domain/errors.js';
import type { SnapshotId } from '../../src/domain/ids.js';

interface Summary {
  snapshotId: string;
  filesNew: number;
  filesUnmodified: number;
  bytesAdded: number;
}

for (const backend of repoBackends()) {
  describe.skipIf(backend.skipped)(`write-only agent key (${backend.name})`, () => {
    beforeAll(() => backend.setUp());
    afterAll(() => backend.tearDown());

    it('backs up and deduplicates, cannot read history; the admin key restores everything', async () => {
      const dir = tempDir();
      const repo = backend.newRepository('write-only');
      const src = path.join(dir, 'src');
      write(path.join(src, 'patients/identites.csv'), 'id;nom\n1;DUPONT Jeanne\n');
      fs.mkdirSync(path.join(src, 'blobs'), { recursive: true });
      fs.writeFileSync(path.join(src, 'blobs/big.bin'), seededBytes(3 << 20, 1));
      const adminPw = passwordFile(dir, 'admin passphrase');
      const agentPw = passwordFile(dir, 'agent passphrase');
      const admin = ['--repo', repo.location, '--password-file', adminPw, '--state-dir', path.join(dir, 'admin-state')];
      const agent = ['--repo', repo.location, '--password-file', agentPw, '--state-dir', path.join(dir, 'agent-state')];

      await cliOk(['init', ...admin, '--kdf', 'min']);
      const first = JSON.parse((await cliOk(['backup', '--json', ...admin, src])).stdout) as Summary;
      const added = await cliOk(['key', 'add', '--write-only', '--new-password-file', agentPw, '--kdf', 'min', ...admin]);
      expect(added.stdout).toMatch(/added write-only key [0-9a-f]{8}/);
      const keys = JSON.parse((await cliOk(['key', 'list', '--json', ...admin])).stdout) as { label: string; kind: string }[];
      expect(keys.map((k) => `${k.label}:${k.kind}`).sort()).toEqual(['admin:full', 'agent:write-only', 'recovery:full']);

      // The agent: its first backup knows nothing (it cannot read the admin's index), the
      // second one finds its parent and its blobs in its own catalog.
      const a1 = JSON.parse((await cliOk(['backup', '--json', ...agent, src])).stdout) as Summary;
      expect(a1.filesNew).toBe(2);
      fs.appendFileSync(path.join(src, 'patients/identites.csv'), '2;MARTIN Paul\n');
      const a2 = JSON.parse((await cliOk(['backup', '--json', ...agent, src])).stdout) as Summary;
      expect(a2.filesUnmodified).toBe(1);
      expect(a2.bytesAdded).toBeLessThan(1 << 20); // big.bin is not uploaded again
      expect((await repo.keys()).filter((k) => k.startsWith('sessions/'))).toHaveLength(2);

      // The agent cannot read anything back: not the admin's snapshot, not its own files.
      for (const args of [
        ['restore', first.snapshotId.slice(0, 12), '--target', path.join(dir, 'x1')],
        ['restore', a2.snapshotId.slice(0, 12), '--target', path.join(dir, 'x2')],
        ['check', '--read-data'],
        ['drill'],
      ]) {
        const r = await runCli([...args, ...agent]);
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/write-only key: it cannot read/);
        expect(r.stderr).not.toMatch(/\n\s+at /); // one clear line, no stack trace
      }
      expect(fs.existsSync(path.join(dir, 'x2'))).toBe(false);
      const addFull = await runCli(['key', 'add', '--new-password-file', passwordFile(dir, 'x'), '--kdf', 'min', ...agent]);
      expect(addFull.code).toBe(2);

      // The admin restores every snapshot (the agent's ones through their session keys) and checks all.
      const all = JSON.parse((await cliOk(['snapshots', '--json', ...admin])).stdout) as { id: string }[];
      expect(all).toHaveLength(3);
      const target = path.join(dir, 'restored');
      await cliOk(['restore', a2.snapshotId.slice(0, 12), '--target', target, ...admin]);
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
      const check = await cliOk(['check', '--read-data', ...admin]);
      expect(check.stdout).toMatch(/no errors|ok/i);
      // …also from a fresh admin machine (no catalog).
      await cliOk(['restore', a1.snapshotId.slice(0, 12), '--target', path.join(dir, 'restored-a1'), ...admin.slice(0, 4), '--state-dir', path.join(dir, 'fresh')]);
      expect(fs.readFileSync(path.join(dir, 'restored-a1', src, 'patients/identites.csv'), 'utf8')).toBe('id;nom\n1;DUPONT Jeanne\n');

      // The agent changes its own passphrase; it stays write-only.
      const agentPw2 = passwordFile(dir, 'agent passphrase 2');
      await cliOk(['key', 'passwd', '--new-password-file', agentPw2, '--kdf', 'min', ...agent]);
      await cliOk(['backup', ...agent.slice(0, 2), '--password-file', agentPw2, ...agent.slice(4), src]);
      const after = JSON.parse((await cliOk(['key', 'list', '--json', ...admin])).stdout) as { id: string; label: string; kind: string }[];
      expect(after.filter((k) => k.kind === 'write-only')).toHaveLength(1);

      // Last-key guard: the write-only key cannot stand in for the last full key.
      const recovery = after.find((k) => k.label === 'recovery')!;
      await cliOk(['key', 'remove', recovery.id.slice(0, 8), ...admin]);
      const adminKey = after.find((k) => k.label === 'admin')!;
      const last = await runCli(['key', 'remove', adminKey.id.slice(0, 8), ...agent.slice(0, 2), '--password-file', agentPw2, ...agent.slice(4)]);
      expect(last.code).toBe(2);
      expect(last.stderr).toMatch(/last full key file/);
    });

    // Local only: the S3 path of write-only packs is covered above, and prune has its own S3 tests.
    it.skipIf(backend.name === 's3')('prune repacks write-only packs; while a plan is pending the agent deduplicates against nothing', async () => {
      const dir = tempDir();
      const repo = backend.newRepository('write-only-prune');
      const src = path.join(dir, 'src');
      fs.mkdirSync(src, { recursive: true });
      fs.writeFileSync(path.join(src, 'big.bin'), seededBytes(3 << 20, 2));
      write(path.join(src, 'small.txt'), 'kept all along');
      const adminPw = passwordFile(dir, 'admin');
      const agentPw = passwordFile(dir, 'agent');
      const admin = ['--repo', repo.location, '--password-file', adminPw, '--state-dir', path.join(dir, 'admin-state')];
      const agent = ['--repo', repo.location, '--password-file', agentPw, '--state-dir', path.join(dir, 'agent-state')];
      await cliOk(['init', ...admin, '--kdf', 'min']);
      await cliOk(['key', 'add', '--write-only', '--new-password-file', agentPw, '--kdf', 'min', ...admin]);
      // One worker thread: it fills one pack with big.bin's chunks and small.txt (with two,
      // which worker packs small.txt would be left to chance).
      await cliOk(['backup', ...agent, src], { env: { COFFRE_WORKERS: '1' } });
      fs.writeFileSync(path.join(src, 'big.bin'), seededBytes(3 << 20, 3));
      const v2 = JSON.parse((await cliOk(['backup', '--json', ...agent, src])).stdout) as Summary;
      await cliOk(['forget', '--keep-last', '1', ...admin]);
      // Plan: the first pack is mostly unused (the old big.bin), so small.txt's blob, sealed
      // with the agent's session key, is copied into a new pack sealed with the data key.
      const planned = (await cliOk(['prune', '--grace', '1h', '--repack-threshold', '50', '--json', ...admin])).stdout;
      expect(planned).toMatch(/"repackPacks":\s*1\b/);
      // v2's small.txt now reads from the repacked pack (the old one's index is superseded).
      const early = path.join(dir, 'restored-early');
      await cliOk(['restore', v2.snapshotId.slice(0, 12), '--target', early, ...admin.slice(0, 4), '--state-dir', path.join(dir, 'fresh-early')]);
      expect(fs.readFileSync(path.join(early, src, 'small.txt'), 'utf8')).toBe('kept all along');

      // The agent cannot read the plan, so it stores everything again rather than lean on a doomed pack.
      const v3 = JSON.parse((await cliOk(['backup', '--json', ...agent, src])).stdout) as Summary;
      expect(v3.bytesAdded).toBeGreaterThan(3 << 20);

      await cliOk(['prune', '--grace', '0s', '--repack-threshold', '50', ...admin]);
      expect((await repo.keys()).filter((k) => k.startsWith('prune/'))).toEqual([]);
      for (const id of [v2.snapshotId, v3.snapshotId]) {
        const target = path.join(dir, `restored-${id.slice(0, 8)}`);
        await cliOk(['restore', id.slice(0, 12), '--target', target, ...admin.slice(0, 4), '--state-dir', path.join(dir, `fresh-${id.slice(0, 8)}`)]);
        expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
      }
      await cliOk(['check', '--read-data', ...admin]);
      // Index objects it knew are gone, and it cannot read the others: its next backup
      // stores everything once more (docs/SECURITY.md, limits), then deduplication resumes.
      await cliOk(['backup', ...agent, src]);
      const v5 = JSON.parse((await cliOk(['backup', '--json', ...agent, src])).stdout) as Summary;
      expect(v5.bytesAdded).toBeLessThan(1 << 20);
    });

    it('with only the agent key, no tree or file content of any snapshot opens (library level)', async () => {
      const dir = tempDir();
      const repo = backend.newRepository('write-only-lib');
      const src = path.join(dir, 'src');
      write(path.join(src, 'a.txt'), 'secret A');
      const adminPw = passwordFile(dir, 'admin');
      const agentPw = passwordFile(dir, 'agent');
      const admin = ['--repo', repo.location, '--password-file', adminPw, '--state-dir', path.join(dir, 'admin-state')];
      await cliOk(['init', ...admin, '--kdf', 'min']);
      await cliOk(['backup', ...admin, src]);
      await cliOk(['key', 'add', '--write-only', '--new-password-file', agentPw, '--kdf', 'min', ...admin]);
      await cliOk(['backup', '--repo', repo.location, '--password-file', agentPw, '--state-dir', path.join(dir, 'agent-state'), src]);

      const storage = await openStorage(repo.location);
      const full = await Repository.open(storage, Buffer.from('admin'), { workers: 0 });
      await full.loadIndex();
      const snaps = await full.snapshots();
      expect(snaps).toHaveLength(2);
      const wo = await Repository.open(storage, Buffer.from('agent'), { workers: 0 });
      try {
        expect(wo.writeOnly).toBe(true);
        await wo.loadIndex();
        expect(await wo.snapshots()).toEqual([]); // no catalog: it reads none
        for (const s of snaps) {
          await expect(wo.readSnapshot(s.id as SnapshotId)).rejects.toBeInstanceOf(WriteOnlyError);
          // Even handed the tree id and its place in the index, it cannot open the blob.
          const tree = full.index.lookup(s.snapshot.tree)!;
          wo.index.addPacks([{ packId: tree.packId, size: 0, blobs: [tree] }]);
          await expect(wo.readTree(s.snapshot.tree)).rejects.toBeInstanceOf(WriteOnlyError);
          const root = await full.readTree(s.snapshot.tree);
          expect(root.nodes.length).toBeGreaterThan(0);
        }
      } finally {
        await wo.close();
        await full.close();
        await storage.close();
      }
    });
  });
}
