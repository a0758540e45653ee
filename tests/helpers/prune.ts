/** Shared set-up for the prune end-to-end tests: a local repository driven through the CLI. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { cliOk } from './cli.js';
import { passwordFile, tempDir } from './tmp.js';
import { describeTree, diffTrees, type ItemInfo } from './tree.js';

export interface Repo {
  dir: string;
  src: string;
  common: string[];
}

export async function newRepo(): Promise<Repo> {
  const dir = tempDir('coffre-prune-');
  const src = path.join(dir, 'src');
  const common = ['--repo', path.join(dir, 'repo'), '--password-file', passwordFile(dir), '--state-dir', path.join(dir, 'state')];
  await cliOk(['init', ...common, '--kdf', 'min']);
  return { dir, src, common };
}

export const json = async (args: string[]) => JSON.parse((await cliOk(args)).stdout);
export const snapshots = async (r: Repo) => (await json(['snapshots', '--json', ...r.common])) as { id: string }[];
export const packCount = (r: Repo) => fs.readdirSync(path.join(r.dir, 'repo', 'data')).flatMap((d) => fs.readdirSync(path.join(r.dir, 'repo', 'data', d))).length;

/** Restores each snapshot and compares it with what the source held when it was taken. */
export async function expectAllRestore(r: Repo, expected: Map<string, Map<string, ItemInfo>>): Promise<void> {
  for (const s of await snapshots(r)) {
    const want = expected.get(s.id);
    expect(want, `snapshot ${s.id} is one the test took`).toBeDefined();
    const target = path.join(r.dir, `restore-${s.id.slice(0, 8)}-${Math.random().toString(36).slice(2)}`);
    await cliOk(['restore', s.id, '--target', target, ...r.common]);
    expect(diffTrees(want!, describeTree(path.join(target, r.src)))).toEqual([]);
  }
}

export async function backup(r: Repo, expected: Map<string, Map<string, ItemInfo>>, env?: NodeJS.ProcessEnv): Promise<string> {
  const out = JSON.parse((await cliOk(['backup', '--json', ...r.common, r.src], { env })).stdout);
  const id = (out.snapshot?.id ?? out.snapshotId ?? out.id) as string;
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  expected.set(id, describeTree(r.src));
  return id;
}
