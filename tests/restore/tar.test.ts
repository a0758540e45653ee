/**
 * `restore --tar` and `dump`, locally and on S3: the archive, extracted by the system's
 * GNU tar, is identical to a restore to disk (contents, modes, owners, nanosecond mtimes,
 * symlinks, long and non-ASCII names), to a file or piped through standard output; `dump`
 * writes one file's exact bytes, or a directory as tar; damaged data abandons the archive
 * and leaves no file behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees } from '../helpers/tree.js';
import { backends, buildSource, inspect, seededBytes, sha256, type Repo } from './support.js';

const isRoot = process.getuid?.() === 0;

/** Runs a shell pipeline with pipefail; returns its exit status and stderr. */
function sh(script: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

for (const backend of backends()) {
  describe.skipIf(backend.skipped)(`tar output and dump on ${backend.name}`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir);
    let repo: Repo;
    let args: string[];
    let restored: string;

    beforeAll(async () => {
      await backend.setUp();
      buildSource(src);
      fs.writeFileSync(path.join(src, 'a/twenty-mb.bin'), seededBytes(20 * 1024 * 1024, 77));
      fs.writeFileSync(path.join(src, 'd/mode-zero'), 'no permission bits at all');
      fs.chmodSync(path.join(src, 'd/mode-zero'), 0);
      fs.mkdirSync(path.join(src, 'f/setgid'), { recursive: true });
      fs.chmodSync(path.join(src, 'f/setgid'), 0o2775);
      if (isRoot) {
        fs.writeFileSync(path.join(src, 'f/owned'), 'owned by someone else');
        fs.chownSync(path.join(src, 'f/owned'), 1234, 5678);
        fs.writeFileSync(path.join(src, 'f/big-uid'), 'an id beyond the 7 octal digits of ustar');
        fs.chownSync(path.join(src, 'f/big-uid'), 3_000_000, 3_000_001);
      }
      repo = backend.newRepo('tar');
      args = ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, 'state')];
      await cliOk(['init', '--kdf', 'min', ...args]);
      await cliOk(['backup', ...args, src]);
      restored = path.join(dir, 'restored');
      await cliOk(['restore', 'latest', '--target', restored, '--verify', ...args]);
      expect(diffTrees(describeTree(src), describeTree(path.join(restored, src)))).toEqual([]);
    });
    afterAll(() => backend.tearDown());

    const owners = (root: string) => {
      const out: Record<string, [number, number]> = {};
      for (const rel of ['f/owned', 'f/big-uid', 'a/big-1.bin']) {
        const p = path.join(root, rel);
        if (fs.existsSync(p)) {
          const st = fs.statSync(p);
          out[rel] = [st.uid, st.gid];
        }
      }
      return out;
    };

    it('writes an archive that GNU tar extracts identical to a restore', async () => {
      const archive = path.join(dir, 'snapshot.tar');
      const r = await cliOk(['restore', 'latest', '--tar', archive, ...args]);
      expect(r.stdout).toMatch(/wrote snapshot [0-9a-f]{8} as tar to .*snapshot\.tar: \d+ file\(s\)/);
      const x = path.join(dir, 'extracted');
      fs.mkdirSync(x);
      execFileSync('tar', ['-xf', archive, '-C', x]);
      expect(diffTrees(describeTree(path.join(restored, src)), describeTree(path.join(x, src)))).toEqual([]);
      expect(owners(path.join(x, src))).toEqual(owners(path.join(restored, src)));
      if (isRoot) expect(owners(path.join(x, src))['f/big-uid']).toEqual([3_000_000, 3_000_001]);
      // Only the snapshot's paths: the ancestors of the source and what is below it.
      const listed = execFileSync('tar', ['-tf', archive], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n');
      expect(listed.every((p) => `/${p}`.startsWith(src) || src.startsWith(`/${p.replace(/\/$/, '')}`))).toBe(true);
    });

    it('streams the archive through standard output into tar on the other end', () => {
      const x = path.join(dir, 'piped');
      fs.mkdirSync(x);
      const r = sh(`node ${BIN} restore latest --tar - ${args.map((a) => `'${a}'`).join(' ')} | tar -x -C '${x}'`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/wrote snapshot [0-9a-f]{8} as tar to standard output/);
      expect(diffTrees(describeTree(path.join(restored, src)), describeTree(path.join(x, src)))).toEqual([]);
    });

    it('archives only the included paths, and refuses to replace a file without --overwrite', async () => {
      const archive = path.join(dir, 'part.tar');
      await cliOk(['restore', 'latest', '--tar', archive, '--include', `${src}/c`, '--include', `${src}/a/big-2.bin`, ...args]);
      const listed = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n');
      const files = listed.filter((p) => !p.endsWith('/'));
      expect(files.length).toBe(41);
      expect(files.filter((p) => p.includes('/c/small-')).length).toBe(40);
      expect(files.some((p) => p.endsWith('a/big-2.bin'))).toBe(true);
      const again = await runCli(['restore', 'latest', '--tar', archive, ...args]);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/exists \(use --overwrite to replace it\)/);
      await cliOk(['restore', 'latest', '--tar', archive, '--overwrite', ...args]);
      expect(execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).split('\n').length).toBeGreaterThan(listed.length);
      const both = await runCli(['restore', 'latest', '--tar', '-', '--target', dir, ...args]);
      expect(both.code).toBe(2);
    });

    it('dumps one file byte for byte, a directory as tar, and refuses a symlink', async () => {
      const big = `${src}/a/twenty-mb.bin`;
      const r = sh(`node ${BIN} dump latest '${big}' ${args.map((a) => `'${a}'`).join(' ')} | sha256sum`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split(' ')[0]).toBe(sha256(big));
      const out = path.join(dir, 'dumped.csv');
      await cliOk(['dump', 'latest', `${src}/b/identity.csv`, '--output', out, ...args]);
      expect(sha256(out)).toBe(sha256(`${src}/b/identity.csv`));
      const empty = sh(`node ${BIN} dump latest '${src}/d/empty.txt' ${args.map((a) => `'${a}'`).join(' ')} | wc -c`);
      expect(empty.stdout.trim()).toBe('0');
      const tarOfDir = sh(`node ${BIN} dump latest '${src}/c' ${args.map((a) => `'${a}'`).join(' ')} | tar -t`);
      expect(tarOfDir.code, tarOfDir.stderr).toBe(0);
      expect(tarOfDir.stdout.split('\n').filter((l) => l.includes('/c/small-')).length).toBe(40);
      const link = await runCli(['dump', 'latest', `${src}/d/link`, ...args]);
      expect(link.code).toBe(2);
      expect(link.stderr).toMatch(/is a symbolic link/);
      const missing = await runCli(['dump', 'latest', `${src}/no-such-file`, ...args]);
      expect(missing.code).toBe(2);
    });

    it('abandons the archive on damaged data, naming the file and the object, and leaves no file', async () => {
      const copy = await repo.copy('tar-damaged');
      const { packs } = await inspect(copy.location, pw);
      // The largest data pack holds part of twenty-mb.bin.
      const victim = packs.filter((p) => !p.types.has('tree')).sort((a, b) => b.size - a.size)[0]!.key;
      const bytes = await copy.read(victim);
      bytes[1000]! ^= 0x01;
      await copy.overwrite(victim, bytes);
      const archive = path.join(dir, 'damaged.tar');
      const r = await runCli(['restore', 'latest', '--tar', archive, '--repo', copy.location, '--password-file', pw, '--state-dir', path.join(dir, 'state-damaged')]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/^coffre: tar archive abandoned at \/.*: /m);
      expect(r.stderr).toContain(victim);
      expect(fs.existsSync(archive)).toBe(false);
      expect(fs.readdirSync(dir).filter((n) => n.includes('coffre-part'))).toEqual([]);
    });
  });
}
