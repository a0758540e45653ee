/**
 * An interrupted restore resumes: a real `coffre restore` child process is killed (SIGKILL)
 * while it is writing, on a local repository and on S3; running the same command again
 * keeps the files already restored, keeps the intact pieces of the part files the killed
 * run left, fetches only the rest, and ends with a tree identical to the source and no
 * part file left behind.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliOk } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { describeTree, diffTrees } from '../helpers/tree.js';
import { backends, seededBytes, type Repo } from './support.js';

const MiB = 1024 * 1024;

/** Everything below `dir`: final files and part files, as relative paths. */
function scan(dir: string): { finals: number; parts: number } {
  let finals = 0;
  let parts = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.startsWith('.coffre-') && e.name.endsWith('.part')) parts++;
      else finals++;
    }
  };
  walk(dir);
  return { finals, parts };
}

/** Starts a restore and SIGKILLs it once some files are complete and some part files are being written. */
async function killMidway(args: string[], target: string): Promise<{ finals: number; parts: number } | undefined> {
  const child = spawn(process.execPath, [BIN, 'restore', 'latest', '--target', target, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let seen: { finals: number; parts: number } | undefined;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const s = scan(target);
    if (s.finals >= 3 && s.parts >= 1) {
      child.kill('SIGKILL');
      seen = s;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await exited;
  return seen;
}

for (const backend of backends()) {
  describe.skipIf(backend.skipped)(`interrupted restore on ${backend.name}`, () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const pw = passwordFile(dir);
    let repo: Repo;
    let args: string[];

    beforeAll(async () => {
      await backend.setUp();
      // Large files (several packs each: part files live long) and many small ones.
      for (let i = 0; i < 6; i++) {
        fs.mkdirSync(path.join(src, 'large'), { recursive: true });
        fs.writeFileSync(path.join(src, 'large', `scan-${i}.bin`), seededBytes(40 * MiB + i * 4099, 1000 + i));
      }
      for (let i = 0; i < 200; i++) {
        fs.mkdirSync(path.join(src, 'small', String(i % 10)), { recursive: true });
        fs.writeFileSync(path.join(src, 'small', String(i % 10), `f-${i}.dat`), seededBytes(20_000 + i * 97, 5000 + i));
      }
      repo = backend.newRepo('resume');
      args = ['--repo', repo.location, '--password-file', pw, '--state-dir', path.join(dir, 'state')];
      await cliOk(['init', '--kdf', 'min', ...args]);
      await cliOk(['backup', ...args, src]);
    });
    afterAll(() => backend.tearDown());

    it('resumes after the restoring process is killed, and ends identical to the source', async () => {
      const target = path.join(dir, 'target');
      let seen: { finals: number; parts: number } | undefined;
      // The kill must land while the restore writes; on a fast machine try again a few times.
      for (let attempt = 0; attempt < 5 && !seen; attempt++) {
        fs.rmSync(target, { recursive: true, force: true });
        seen = await killMidway(args, target);
      }
      expect(seen, 'the restore finished before it could be killed mid-way, five times').toBeDefined();
      const left = scan(target);
      expect(left.parts).toBeGreaterThan(0);
      const before = describeTree(path.join(target, src));
      const finals = [...before.entries()].filter(([p, i]) => i.type === 'file' && !path.basename(p).startsWith('.coffre-'));
      const finalBytes = finals.reduce((n, [, i]) => n + i.size, 0);

      const again = await cliOk(['restore', 'latest', '--target', target, '--verify', '--json', ...args]);
      const r = JSON.parse(again.stdout) as { skipped: number; resumedBytes: number; bytes: number; files: number; verifiedFiles: number; failures: unknown[] };
      expect(r.failures).toEqual([]);
      expect(r.files).toBe(206);
      expect(r.verifiedFiles).toBe(206);
      // What the killed run completed is kept: whole files skipped, intact pieces of part files reused.
      expect(r.skipped).toBe(finals.length);
      expect(r.resumedBytes).toBeGreaterThan(0);
      // And nothing is fetched twice: written now + kept in part files + complete before = everything.
      const total = [...describeTree(src).values()].filter((i) => i.type === 'file').reduce((n, i) => n + i.size, 0);
      expect(r.bytes + r.resumedBytes + finalBytes).toBe(total);
      expect(scan(target).parts).toBe(0);
      expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
    });
  });
}
