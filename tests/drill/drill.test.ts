/**
 * `coffre drill`, through the real CLI on a local repository and on S3 (RGW): a full drill
 * verifies every file and leaves both the repository (byte for byte) and the scratch area
 * as they were; a sample draws large and small files reproducibly; the reports an auditor
 * keeps hold no contents or secrets; live files changed since the backup are told apart
 * from corruption; and the drill's storage refuses every write.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drill, drillRecord, openDrillRepository, type DrillReport } from '../../src/app/drill.js';
import { openRepository } from '../../src/app/repo.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { StorageError } from '../../src/domain/errors.js';
import { runDrill } from '../../src/drill/drill.js';
import { isReadOnly } from '../../src/storage/read-only.js';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { backends, buildSource, filesBelow, fingerprint, MARKER, type Repo } from '../restore/support.js';

const PASSPHRASE = 'drill passphrase do-not-leak 7f3a';

for (const backend of backends()) {
  describe.skipIf(backend.skipped)(`drill on ${backend.name}`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir, PASSPHRASE);
    const state = path.join(dir, 'state');
    let repo: Repo;
    let args: string[];
    let snapshotId: string;

    beforeAll(async () => {
      await backend.setUp();
      buildSource(src);
      repo = backend.newRepo('drill');
      args = ['--repo', repo.location, '--password-file', pw, '--state-dir', state];
      await cliOk(['init', '--kdf', 'min', ...args]);
      snapshotId = JSON.parse((await cliOk(['backup', '--json', ...args, src])).stdout).snapshotId;
    });
    afterAll(() => backend.tearDown());

    it('a full drill verifies every file, and leaves the repository and the scratch area as they were', async () => {
      const before = await fingerprint(repo);
      const scratch = path.join(dir, 'scratch-full');
      fs.mkdirSync(scratch);
      const r = await cliOk(['drill', '--full', '--json', '--scratch', scratch, ...args]);
      const rep = JSON.parse(r.stdout) as DrillReport;
      const files = filesBelow(src);
      const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
      expect(rep).toMatchObject({ result: 'ok', mode: 'full', readOnly: true, mismatches: 0, rtoBasis: 'measured' });
      expect(rep.snapshot.id).toBe(snapshotId);
      expect(rep.snapshot.files).toBe(files.length);
      expect(rep.snapshot.bytes).toBe(bytes);
      expect(rep.verified).toEqual({ files: files.length, bytes });
      expect(rep.selected.symlinks).toBe(2);
      expect(rep.throughputBytesPerSec).toBeGreaterThan(0);
      expect(rep.rtoEstimateMs).toBeGreaterThan(0);
      expect(rep.scratch).toEqual({ parent: scratch, removed: true });
      expect(rep.repository).toBe(repo.location);
      expect(fs.readdirSync(scratch)).toEqual([]);
      expect(await fingerprint(repo)).toEqual(before);

      const text = await cliOk(['drill', '--full', ...args]);
      expect(text.stdout).toMatch(new RegExp(`^drill of snapshot ${snapshotId.slice(0, 8)} `));
      expect(text.stdout).toMatch(/^verified: \d+ file\(s\), [\d.]+ MiB identical to the snapshot$/m);
      expect(text.stdout).toMatch(/^RTO estimate: .* \(measured: this drill restored everything\)$/m);
      expect(text.stdout).toMatch(/^result: OK$/m);
    });

    it('a sample draws the largest and the smallest files, the same ones again from the same seed', async () => {
      const a = JSON.parse((await cliOk(['drill', '--sample', '5', '--seed', '7', '--json', ...args])).stdout) as DrillReport;
      const b = JSON.parse((await cliOk(['drill', '--sample', '5', '--seed', '7', '--json', '--snapshot', snapshotId.slice(0, 8), ...args])).stdout) as DrillReport;
      expect(a).toMatchObject({ result: 'ok', mode: 'sample', sample: { requested: 5, seed: 7 }, rtoBasis: 'extrapolated' });
      expect(a.verified.files).toBe(5);
      expect(b.selected).toEqual(a.selected);
      // The first draw is from the largest size class (the 2-4 MiB files), the second from the smallest (the empty file).
      expect(a.selected.bytes).toBeGreaterThan(2 * 1024 * 1024);
      expect(a.rtoEstimateMs).toBeGreaterThan(0);
    });

    it('writes Markdown and HTML reports an auditor can keep, with no contents or secrets', async () => {
      for (const name of ['report.md', 'report.html']) {
        const file = path.join(dir, name);
        await cliOk(['drill', '--sample', '20', '--report', file, ...args]);
        const text = fs.readFileSync(file, 'utf8');
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        expect(text).toContain(snapshotId);
        expect(text).toContain('Result: PASSED');
        expect(text).toContain('Recovery time estimate');
        expect(text).toContain('opened read-only');
        for (const secret of [MARKER, PASSPHRASE, 'Claire']) expect(text).not.toContain(secret);
        if (name.endsWith('.html')) {
          expect(text.startsWith('<!DOCTYPE html>')).toBe(true);
          expect(text).not.toMatch(/<script|\ssrc=|\shref=|@import|url\(/i);
        } else {
          expect(text.startsWith('# Restore drill report')).toBe(true);
        }
      }
      const bad = await runCli(['drill', '--report', path.join(dir, 'report.pdf'), ...args]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/must end in \.md or \.html/);
      const both = await runCli(['drill', '--full', '--sample', '3', ...args]);
      expect(both.code).toBe(2);
      const none = await runCli(['drill', '--snapshot', 'ffffffff', ...args]);
      expect(none.code).toBe(2);
    });

    it('--compare-live reports files changed since the backup apart from corruption', async () => {
      const live = path.join(dir, 'live');
      fs.mkdirSync(live);
      for (const n of ['keep.txt', 'change.txt', 'delete.txt']) fs.writeFileSync(path.join(live, n), `original ${n}\n`);
      fs.writeFileSync(path.join(live, 'silent.bin'), 'AAAAAAAAAAAAAAAA');
      const id = JSON.parse((await cliOk(['backup', '--json', ...args, live])).stdout).snapshotId as string;
      fs.writeFileSync(path.join(live, 'change.txt'), 'edited after the backup\n');
      fs.rmSync(path.join(live, 'delete.txt'));
      const st = fs.statSync(path.join(live, 'silent.bin'), { bigint: true });
      fs.writeFileSync(path.join(live, 'silent.bin'), 'BBBBBBBBBBBBBBBB'); // same size…
      fs.utimesSync(path.join(live, 'silent.bin'), Number(st.atimeNs) / 1e9, Number(st.mtimeNs) / 1e9); // …and the same mtime

      const r = await cliOk(['drill', '--snapshot', id, '--full', '--compare-live', '--json', ...args]);
      const rep = JSON.parse(r.stdout) as DrillReport;
      expect(rep.result).toBe('ok'); // the backup restores exactly: the live side changed
      expect(rep.live).toMatchObject({ compared: 4, identical: 1, changedSinceBackup: 1, deletedSinceBackup: 1, unexplained: 1, unreadable: 0 });
      expect(rep.live!.changedPaths).toEqual([path.join(live, 'change.txt')]);
      expect(rep.live!.deletedPaths).toEqual([path.join(live, 'delete.txt')]);
      expect(rep.live!.unexplainedPaths.map((u) => u.path)).toEqual([path.join(live, 'silent.bin')]);
      const text = await cliOk(['drill', '--snapshot', id, '--full', '--compare-live', ...args]);
      expect(text.stdout).toMatch(/^live files: 4 compared: 1 identical, 1 changed since the backup, 1 deleted since the backup, 1 differ with the same size and time/m);
    });

    it('records each drill in the catalog of the state directory, for status', async () => {
      const stateDir = path.join(dir, 'state-record');
      const drillArgs = ['--repo', repo.location, '--password-file', pw, '--state-dir', stateDir];
      const rep = JSON.parse((await cliOk(['drill', '--sample', '4', '--json', ...drillArgs])).stdout) as DrillReport;
      const files = fs.readdirSync(stateDir).filter((f) => f.endsWith('.sqlite'));
      expect(files).toHaveLength(1);
      const catalog = Catalog.open(path.join(stateDir, files[0]!), { repositoryId: files[0]!.replace(/\.sqlite$/, '') });
      try {
        const [last] = catalog.drills.recent(1);
        expect(last).toMatchObject({ snapshotId: rep.snapshot.id, result: 'ok', files: 4, mismatches: 0, durationMs: rep.timings.durationMs });
        expect(JSON.parse(last!.reportJson!).id).toBe(rep.id);
      } finally {
        catalog.close();
      }
    });

    it("a drill's storage refuses every write, and a drill runs on nothing else", async () => {
      const opts = { repo: repo.location, passwordFile: pw, stateDir: state, workers: 0 };
      const ro = await openDrillRepository(opts);
      try {
        expect(isReadOnly(ro.storage)).toBe(true);
        for (const attempt of [ro.storage.put('data/00/new-object', Buffer.from('x')), ro.storage.delete('config')]) {
          const err = await attempt.catch((e: unknown) => e);
          expect(err).toBeInstanceOf(StorageError);
          expect((err as StorageError).kind).toBe('permission');
        }
      } finally {
        await ro.close();
        await ro.storage.close();
      }
      const rw = await openRepository(opts);
      try {
        await expect(runDrill(rw, { mode: { kind: 'sample', files: 1 } })).rejects.toThrow(/read-only/);
      } finally {
        await rw.close();
        await rw.storage.close();
      }
      // The report handed to the recorder is the one returned, and maps onto the catalog's drill_runs row.
      const seen: DrillReport[] = [];
      const rep = await drill(opts, { mode: { kind: 'sample', files: 3 }, onReport: (r) => void seen.push(r) });
      expect(seen).toEqual([rep]);
      expect(drillRecord(rep)).toMatchObject({ snapshotId: rep.snapshot.id, result: 'ok', files: 3, mismatches: 0, durationMs: rep.timings.durationMs });
      expect(JSON.parse(drillRecord(rep).reportJson!)).toEqual(rep);
    });
  });
}
