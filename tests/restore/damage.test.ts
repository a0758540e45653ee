/**
 * Damage, on a local repository and on S3 (RGW): a corrupted pack, a truncated pack, a
 * deleted pack, a damaged index object. For each, on a fresh copy of one repository:
 * `check` names the damaged object and the files it costs; `drill --full` fails (exit 4)
 * with a report naming exactly the files that cannot be restored; `restore` restores every
 * other file bit for bit (exit 3) and names the failed ones; restoring an unaffected file
 * alone succeeds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { backends, buildSource, filesBelow, initRepo, inspect, sha256, SMALL_LAYOUT, type PackInfo, type Repo } from './support.js';

interface Finding {
  severity: string;
  object: string;
  message: string;
  affects?: { snapshot: string; paths: string[]; count: number }[];
}

for (const backend of backends()) {
  describe.skipIf(backend.skipped)(`damaged repository on ${backend.name}`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir);
    let pristine: Repo;
    let packs: PackInfo[];
    let indexes: { key: string; trees: boolean; packs: number }[];
    // A state directory per repository: a local catalog that remembers the intact index would hide the damage.
    const args = (repo: Repo) => ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, `state-${path.basename(repo.location)}`)];

    beforeAll(async () => {
      await backend.setUp();
      buildSource(src);
      pristine = backend.newRepo('pristine');
      await initRepo(pristine.location, pw, SMALL_LAYOUT);
      await cliOk(['backup', ...args(pristine), src]);
      ({ packs, indexes } = await inspect(pristine.location, pw));
    });
    afterAll(() => backend.tearDown());

    it('spreads the test data over many packs and several index objects', () => {
      // Packs close between 1 and 1.5 x the 256 KiB target (where Padmé wastes least), so the 5 MiB of
      // random data alone fill at least 14; how many more depends on how the worker threads split the
      // files (each closes its own last pack): 17 or more in most runs, fewer once under load.
      expect(packs.length).toBeGreaterThanOrEqual(14);
      expect(indexes.length).toBeGreaterThanOrEqual(2);
      expect(indexes.filter((i) => !i.trees).length).toBeGreaterThanOrEqual(1);
    });

    const dataPack = (n: number) => packs.filter((p) => !p.types.has('tree'))[n]!.key;
    const cases = [
      {
        tag: 'corrupt',
        what: 'a pack with a flipped byte',
        pick: () => dataPack(3),
        damage: async (r: Repo, key: string) => {
          const b = await r.read(key);
          b[100]! ^= 0x01; // inside the first blob
          await r.overwrite(key, b);
        },
        structural: false,
      },
      {
        tag: 'truncate',
        what: 'a truncated pack',
        pick: () => dataPack(5),
        damage: async (r: Repo, key: string) => {
          // Half of it, whatever its size: a fixed cut (60,000 bytes) left a small pack (its
          // size depends on how the session closed packs under load) whole, and check passed.
          const b = await r.read(key);
          await r.overwrite(key, b.subarray(0, Math.floor(b.length / 2)));
        },
        structural: true,
      },
      { tag: 'delete', what: 'a deleted pack', pick: () => dataPack(7), damage: (r: Repo, key: string) => r.remove(key), structural: true },
      {
        tag: 'index',
        what: 'a damaged index object',
        pick: () => indexes.find((i) => !i.trees)!.key,
        damage: async (r: Repo, key: string) => {
          const b = await r.read(key);
          b[Math.floor(b.length / 2)]! ^= 0x01;
          await r.overwrite(key, b);
        },
        structural: true,
      },
    ];

    for (const c of cases) {
      it(`${c.what}: check names it, the drill fails naming the files, the rest restores`, async () => {
        const repo = await pristine.copy(c.tag);
        const key = c.pick();
        await c.damage(repo, key);
        const readData = c.structural ? [] : ['--read-data'];

        // check: the object by name, on stderr and in the JSON findings, with the files it costs
        const chk = await runCli(['check', ...readData, ...args(repo)]);
        expect(chk.code, chk.stderr).toBe(4);
        expect(chk.stderr).toContain(key);
        const chkJson = await runCli(['check', '--json', ...readData, ...args(repo)]);
        expect(chkJson.code).toBe(4);
        const findings = (JSON.parse(chkJson.stdout) as { findings: Finding[] }).findings;
        expect(findings.some((f) => f.severity === 'error' && f.object === key)).toBe(true);
        const checkAffected = new Set(findings.flatMap((f) => f.affects ?? []).flatMap((a) => a.paths));

        // restore: every file the damage does not touch comes back bit for bit
        const target = path.join(dir, `restore-${c.tag}`);
        const r = await runCli(['restore', 'latest', '--target', target, '--json', ...args(repo)]);
        expect(r.code, r.stderr).toBe(4);
        const result = JSON.parse(r.stdout) as { failures: { path: string; reason: string; object?: string }[] };
        const failed = new Set(result.failures.map((f) => f.path));
        const files = filesBelow(src);
        expect(failed.size).toBeGreaterThan(0);
        expect(failed.size).toBeLessThan(files.length);
        if (c.tag === 'index') expect(r.stderr).toContain(`coffre: damaged, skipped: ${key}: `);
        for (const f of result.failures) {
          expect(r.stderr).toContain(`not restored: ${f.path}`);
          expect(f.object).toBe(c.tag === 'index' ? 'index' : key);
        }
        for (const f of files) {
          const restored = path.join(target, f);
          if (failed.has(f)) expect(fs.existsSync(restored), f).toBe(false);
          else expect(sha256(restored), f).toBe(sha256(f));
        }
        expect(fs.readdirSync(target, { recursive: true }).filter((n) => String(n).includes('.coffre-'))).toEqual([]);
        // what check says it costs covers what failed (check blames a truncated pack whole)
        for (const f of failed) if (checkAffected.size < 50) expect(checkAffected, f).toContain(f);

        // drill: fails, and its report names exactly the files that failed
        const report = path.join(dir, `drill-${c.tag}.md`);
        const d = await runCli(['drill', '--full', '--json', '--report', report, ...args(repo)]);
        expect(d.code, d.stderr).toBe(4);
        const rep = JSON.parse(d.stdout) as { result: string; mismatchList: { path: string; object?: string }[]; repositoryProblems: { object: string }[] };
        expect(rep.result).toBe('failed');
        expect(new Set(rep.mismatchList.map((m) => m.path))).toEqual(failed);
        if (c.tag === 'index') expect(rep.repositoryProblems.map((p) => p.object)).toEqual([key]);
        else expect(rep.mismatchList.every((m) => m.object === key)).toBe(true);
        const md = fs.readFileSync(report, 'utf8');
        expect(md).toContain('Result: FAILED');
        for (const f of failed) expect(md).toContain(f);
        expect(d.stderr).toMatch(/^coffre: drill failed: /m);

        // one unaffected file alone restores cleanly
        const ok = files.find((f) => !failed.has(f))!;
        const alone = path.join(dir, `alone-${c.tag}`);
        await cliOk(['restore', 'latest', '--target', alone, '--include', ok, ...args(repo)]);
        expect(sha256(path.join(alone, ok))).toBe(sha256(ok));
      });
    }
  });
}
