/**
 * Damage and bad input: every flipped byte is detected and named; a damaged pack fails
 * only the files that need it; nothing readable leaks into the repository; wrong
 * passphrases and missing repositories give one clear line and a documented exit code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { flipByte, repoBackends, withDamaged, type TestRepository } from '../helpers/repo-backends.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, seededBytes, write } from '../helpers/tree.js';

const MARKER = 'DUPONT-Jean-1970-01-01-SSN-170017512345678';
const SECRET_NAME = 'Dossier_Patient_Martin_Claire.csv';

/** Pack keys (data/xx/ID), biggest first. */
async function packsBySize(repo: TestRepository): Promise<string[]> {
  const packs = (await repo.keys()).filter((k) => k.startsWith('data/'));
  const sizes = new Map(await Promise.all(packs.map(async (k) => [k, (await repo.read(k)).length] as const)));
  return packs.sort((a, b) => sizes.get(b)! - sizes.get(a)!);
}

for (const backend of repoBackends()) {
  describe.skipIf(backend.skipped)(`integrity and confidentiality (${backend.name})`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir);
    let repo: TestRepository;
    let common: string[];

    beforeAll(async () => {
      await backend.setUp();
      repo = backend.newRepository('integrity');
      common = ['--repo', repo.location, '--password-file', pw];
      write(`${src}/patients/${SECRET_NAME}`, `${MARKER}\n`.repeat(2000));
      write(`${src}/patients/identity.csv`, csvText(3 * 1024 * 1024, 1));
      write(`${src}/scans/scan.bin`, seededBytes(5 * 1024 * 1024, 2));
      write(`${src}/small/a.txt`, 'unrelated small file');
      await cliOk(['init', ...common, '--kdf', 'min']);
      await cliOk(['backup', ...common, src]);
    });
    afterAll(() => backend.tearDown());

    it('stores no file content and no file name in the clear', async () => {
      const needles = [MARKER, SECRET_NAME, 'Dossier_Patient', 'identity.csv', 'unrelated small file', 'patients'];
      const scan = seededBytes(5 * 1024 * 1024, 2).subarray(1_000_000, 1_000_064);
      for (const f of await repo.keys()) {
        const bytes = await repo.read(f);
        for (const n of needles) expect(bytes.includes(Buffer.from(n)), `${n} in ${f}`).toBe(false);
        expect(bytes.includes(scan), `raw content in ${f}`).toBe(false);
      }
    });

    it('check --read-data passes on the intact repository', async () => {
      const r = await runCli(['check', '--read-data', ...common]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });

    it('detects a flipped byte in every pack, index and snapshot object, naming it', async () => {
      const objects = (await repo.keys()).filter((k) => /^(data|index|snapshots)\//.test(k));
      expect(objects.length).toBeGreaterThanOrEqual(4);
      for (const obj of objects) {
        for (const at of ['start', 'middle', 'end'] as const) {
          const r = await withDamaged(repo, obj, flipByte(at), () => runCli(['check', '--read-data', ...common]));
          expect(r.code, `${obj} ${at}: ${r.stderr}`).not.toBe(0);
          expect(r.stderr).toContain(path.basename(obj));
        }
      }
    });

    it('restores the files a damaged pack does not hold, and names the ones it does', async () => {
      // The pack holding the random scan: the data pack whose size is the largest. Damaged in
      // its middle, inside the large blobs: the small files are read (and sealed) concurrently
      // with the large ones, so a.txt may well be the pack's first blob.
      const [biggest] = await packsBySize(repo);
      const target = path.join(dir, 'partial-restore');
      const [r, chk] = await withDamaged(repo, biggest!, flipByte('middle'), async () => [
        await runCli(['restore', 'latest', '--target', target, ...common]),
        await runCli(['check', '--read-data', ...common]),
      ]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/not restored: .*(scan\.bin|identity\.csv|Dossier)/);
      expect(fs.readFileSync(path.join(target, src, 'small/a.txt'), 'utf8')).toBe('unrelated small file');
      expect(chk.code).toBe(4);
      // read piece by piece, the pack still names the one damaged blob, not all of them
      expect(chk.stderr).toMatch(/pack content does not match its name; 1 of \d+ blob\(s\) damaged/);
      expect(chk.stderr).toMatch(/snapshot [0-9a-f]{8}: \d+ item\(s\) affected/);
    });

    it('detects a truncated pack in the structural check', async () => {
      const pack = (await packsBySize(repo))[0]!;
      const halve = (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length / 2));
      const r = await withDamaged(repo, pack, halve, () => runCli(['check', ...common]));
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(path.basename(pack));
      expect(r.stderr).toMatch(/bytes, the index says/);
    });

    it('refuses a wrong passphrase with exit code 12 and one line', async () => {
      const wrong = passwordFile(dir, 'not the passphrase');
      const r = await runCli(['snapshots', '--repo', repo.location, '--password-file', wrong]);
      expect(r.code).toBe(12);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^coffre: wrong passphrase/);
    });

    it('opens with the recovery key printed at init', async () => {
      const repo2 = backend.newRepository('recovery').location;
      const init = JSON.parse((await cliOk(['init', '--repo', repo2, '--password-file', pw, '--kdf', 'min', '--json'])).stdout);
      expect(init.recoveryKey).toMatch(/^([A-Z2-9]{4}-){7}[A-Z2-9]{4}$/);
      const rec = passwordFile(dir, init.recoveryKey);
      const keys = JSON.parse((await cliOk(['key', 'list', '--json', '--repo', repo2, '--password-file', rec])).stdout);
      expect(keys.map((k: { label: string }) => k.label).sort()).toEqual(['admin', 'recovery']);
    });

    it('reports a missing repository (exit 10), a readable password file (exit 2) and a missing path', async () => {
      const missing = await runCli(['snapshots', '--repo', backend.newRepository('nope').location, '--password-file', pw]);
      expect(missing.code).toBe(10);
      expect(missing.stderr).toMatch(/^coffre: no repository at /);
      const loose = path.join(dir, 'loose-pw');
      fs.writeFileSync(loose, 'x\n', { mode: 0o644 });
      fs.chmodSync(loose, 0o644);
      const r = await runCli(['snapshots', '--repo', repo.location, '--password-file', loose]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('readable by group or others (mode 0644)');
      const nopath = await runCli(['backup', ...common, path.join(dir, 'no-such-dir')]);
      expect(nopath.code).toBe(2);
      expect(nopath.stderr).toMatch(/cannot back up .*no-such-dir/);
      for (const x of [missing, r, nopath]) expect(x.stderr).not.toMatch(/\n\s+at /);
    });
  });
}
