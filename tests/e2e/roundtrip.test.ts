/**
 * The core promise, through the real CLI on real files: what is backed up comes back
 * bit for bit, with modes, mtimes, links and empty things; unchanged data costs nothing;
 * a small change costs about one chunk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { repoBackends } from '../helpers/repo-backends.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function buildAwkwardTree(root: string): void {
  write(`${root}/empty.txt`, '');
  write(`${root}/one-byte`, 'x');
  // Sizes around the chunker's limits (min 512 KiB, avg 1 MiB, max 8 MiB).
  for (const [i, size] of [512 * KiB - 1, 512 * KiB, 512 * KiB + 1, MiB, 8 * MiB, 8 * MiB + 1].entries()) {
    write(`${root}/sizes/random-${size}`, seededBytes(size, 100 + i));
    write(`${root}/sizes/text-${size}`, csvText(size, 200 + i));
  }
  write(`${root}/big/hundred-megabytes.bin`, seededBytes(100 * MiB, 7));
  const odd = ['été', 'Ünïcødé 名前.txt', 'with space', 'new\nline', 'quote"and\'s', 'back\\slash', '-leading-dash', '🙂 emoji', 'x'.repeat(255)];
  for (const name of odd) write(`${root}/odd/${name}`, `content of ${name}`);
  let deep = `${root}/deep`;
  for (let i = 0; i < 25; i++) deep += `/level-${i}`;
  write(`${deep}/bottom.txt`, 'deep down');
  fs.mkdirSync(`${root}/empty-dir`);
  fs.mkdirSync(`${root}/links`);
  fs.symlinkSync('../one-byte', `${root}/links/relative`);
  fs.symlinkSync('/etc/hostname', `${root}/links/absolute`);
  fs.symlinkSync('does/not/exist', `${root}/links/dangling`);
  fs.symlinkSync('../deep', `${root}/links/to-dir`);
  write(`${root}/modes/read-only.txt`, 'do not touch', 0o444);
  write(`${root}/modes/script.sh`, '#!/bin/sh\necho hi\n', 0o755);
  write(`${root}/modes/private`, 'secret-ish', 0o600);
  fs.mkdirSync(`${root}/modes/read-only-dir`);
  write(`${root}/modes/read-only-dir/inside`, 'kept');
  fs.chmodSync(`${root}/modes/read-only-dir`, 0o555);
  fs.mkdirSync(`${root}/modes/setgid-dir`);
  fs.chmodSync(`${root}/modes/setgid-dir`, 0o2775);
  // Old, precise mtimes.
  fs.utimesSync(`${root}/one-byte`, 1_000_000_000.123456, 1_000_000_000.123456);
  fs.utimesSync(`${root}/empty-dir`, 86_400, 86_400);
}

for (const backend of repoBackends()) {
  describe.skipIf(backend.skipped)(`backup and restore through the CLI (${backend.name})`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir);
    let common: string[];

    beforeAll(async () => {
      await backend.setUp();
      common = ['--repo', backend.newRepository('roundtrip').location, '--password-file', pw];
      buildAwkwardTree(src);
      await cliOk(['init', ...common, '--kdf', 'min']);
    });
    afterAll(() => backend.tearDown());

    it('restores an awkward tree bit for bit, with modes, mtimes and links', async () => {
      const b = JSON.parse((await cliOk(['backup', ...common, '--json', src])).stdout);
      expect(b.snapshotId).toMatch(/^[0-9a-f]{64}$/);
      expect(b.filesNew).toBe(describe_files(src));
      const target = path.join(dir, 'restored');
      const r = await cliOk(['restore', 'latest', ...common, '--target', target, '--verify']);
      expect(r.stdout).toMatch(/verified: \d+ file\(s\) identical/);
      const diffs = diffTrees(describeTree(src), describeTree(path.join(target, src)));
      expect(diffs).toEqual([]);
      const ls = await cliOk(['ls', 'latest', ...common]);
      expect(ls.stdout).toContain(`${src}/odd/🙂 emoji`);
      expect(ls.stdout).toContain(`${src}/deep/level-0`);
    });

    it('adds almost nothing for an unchanged tree, and about one chunk for a one-byte change in 40 MB', async () => {
      write(`${src}/forty.bin`, seededBytes(40 * 1000 * 1000, 40));
      await cliOk(['backup', ...common, src]);
      const again = JSON.parse((await cliOk(['backup', ...common, '--json', src])).stdout);
      expect(again.bytesAdded).toBeLessThan(MiB);
      expect(again.filesNew).toBe(0);
      expect(again.filesChanged).toBe(0);

      const f = fs.openSync(`${src}/forty.bin`, 'r+');
      fs.writeSync(f, Buffer.from([0x42]), 0, 1, 20_000_000);
      fs.closeSync(f);
      const after = JSON.parse((await cliOk(['backup', ...common, '--json', src])).stdout);
      expect(after.filesChanged).toBe(1);
      // One new chunk (512 KiB to 8 MiB, about 1 MiB typically) plus new trees and padding.
      expect(after.bytesAdded).toBeGreaterThan(256 * KiB);
      expect(after.bytesAdded).toBeLessThan(9 * MiB);
    });

    it('restores only what --include names, and leaves existing files alone', async () => {
      const target = path.join(dir, 'partial');
      await cliOk(['restore', 'latest', ...common, '--target', target, '--include', `${src}/odd`]);
      const got = describeTree(path.join(target, src));
      expect([...got.keys()].filter((p) => p.startsWith('odd/')).length).toBe(9);
      expect(got.has('one-byte')).toBe(false);
      // Second restore into the same place: every file is already there.
      const again = await cliOk(['restore', 'latest', ...common, '--target', target, '--include', `${src}/odd`, '--json']);
      expect(JSON.parse(again.stdout).skipped).toBe(9);
      fs.writeFileSync(path.join(target, src, 'odd', 'été'), 'changed locally');
      const refused = await runCli(['restore', 'latest', ...common, '--target', target, '--include', `${src}/odd`]);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('exists and differs');
      expect(fs.readFileSync(path.join(target, src, 'odd', 'été'), 'utf8')).toBe('changed locally');
    });
  });
}

function describe_files(root: string): number {
  return [...describeTree(root).values()].filter((i) => i.type === 'file').length;
}
