/**
 * A worker thread that dies (out of memory, a broken build) is not damage: backup, restore
 * and check --read-data stop with one line and exit 1, report no file unreadable and no pack
 * damaged, leave no process hanging, and the next run does the work. The thread is made to
 * exit by the test-only COFFRE_TEST_WORKER_EXIT=OP (src/workers/codec-worker.ts), as an
 * out-of-memory kill of that thread would.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, describeTree, diffTrees, seededBytes, write } from '../helpers/tree.js';

const DIED = 'coffre: a worker thread exited with code 70\n';
const exitOn = (op: string) => ({ env: { COFFRE_TEST_WORKER_EXIT: op } });

describe('a worker thread that dies', () => {
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const pw = passwordFile(dir);
  const repo = path.join(dir, 'repo');
  const common = ['--repo', repo, '--password-file', pw];
  const snapshots = async () => (JSON.parse((await cliOk(['snapshots', ...common, '--json'])).stdout) as unknown[]).length;

  beforeAll(async () => {
    write(`${src}/patients/identity.csv`, csvText(3 * 1024 * 1024, 1));
    write(`${src}/scans/scan.bin`, seededBytes(4 * 1024 * 1024, 2));
    for (let i = 0; i < 40; i++) write(`${src}/notes/n${i}.txt`, `note ${i}\n`.repeat(50 + i));
    await cliOk(['init', ...common, '--kdf', 'min']);
  });

  it('stops a backup, which stores no snapshot and blames no file; the next backup stores everything', async () => {
    const r = await runCli(['backup', ...common, src], exitOn('chunk-file'));
    expect(r.stderr).toBe(DIED);
    expect(r.code).toBe(1);
    expect(await snapshots()).toBe(0);
    await cliOk(['backup', ...common, src]);
    expect(await snapshots()).toBe(1);
  });

  it('stops a restore without calling any file damaged; the next restore completes it', async () => {
    const target = path.join(dir, 'restored');
    const r = await runCli(['restore', 'latest', ...common, '--target', target], exitOn('restore-range'));
    expect(r.stderr).toBe(DIED);
    expect(r.code).toBe(1);
    await cliOk(['restore', 'latest', ...common, '--target', target]);
    expect(diffTrees(describeTree(src), describeTree(path.join(target, src)))).toEqual([]);
  });

  it('stops check --read-data with exit 1, not the damage exit 4; the next check passes', async () => {
    const r = await runCli(['check', '--read-data', ...common], exitOn('restore-range'));
    expect(r.stderr).toBe(DIED);
    expect(r.code).toBe(1);
    const ok = await runCli(['check', '--read-data', ...common]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(fs.existsSync(repo)).toBe(true);
  });
});
