/**
 * The format promise: a repository written by format v1's first release restores bit for
 * bit with this version (tests/fixtures/README.md).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, ROOT } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';

const FIXTURE = path.join(ROOT, 'tests/fixtures/repo-v1');

interface Item {
  type: 'file' | 'dir' | 'symlink';
  mode?: number;
  size?: number;
  sha256?: string;
  target?: string;
  mtimeNs?: string;
}

describe('fixture repository v1', () => {
  const dir = tempDir();
  const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'manifest.json'), 'utf8')) as {
    sourcePath: string;
    snapshots: Record<string, Record<string, Item>>;
  };
  // A copy: the check must not depend on the fixture's file modes in git, and nothing may touch the original.
  const repo = path.join(dir, 'repo');
  fs.cpSync(path.join(FIXTURE, 'repo'), repo, { recursive: true });
  const pw = passwordFile(dir, fs.readFileSync(path.join(FIXTURE, 'passphrase.txt'), 'utf8').trim());
  const common = ['--repo', repo, '--password-file', pw];

  it('lists its two snapshots and passes check --read-data', async () => {
    const list = JSON.parse((await cliOk(['snapshots', '--json', ...common])).stdout) as { shortId: string; host: string; tags: string[] }[];
    expect(list.map((s) => s.shortId).sort()).toEqual(Object.keys(manifest.snapshots).sort());
    expect(list.every((s) => s.host === 'fixture-host' && s.tags.includes('v1'))).toBe(true);
    await cliOk(['check', '--read-data', ...common]);
  });

  for (const snap of Object.keys(manifest.snapshots)) {
    it(`restores snapshot ${snap} exactly as recorded`, async () => {
      const target = path.join(dir, `restore-${snap}`);
      await cliOk(['restore', snap, '--target', target, '--verify', ...common]);
      const root = path.join(target, manifest.sourcePath);
      for (const [rel, want] of Object.entries(manifest.snapshots[snap]!)) {
        const p = path.join(root, rel);
        const st = fs.lstatSync(p, { bigint: true });
        if (want.type === 'symlink') {
          expect(st.isSymbolicLink(), rel).toBe(true);
          expect(fs.readlinkSync(p), rel).toBe(want.target);
          continue;
        }
        expect(Number(st.mode & 0o7777n), rel).toBe(want.mode);
        if (want.type === 'dir') {
          expect(st.isDirectory(), rel).toBe(true);
          continue;
        }
        expect(Number(st.size), rel).toBe(want.size);
        expect(createHash('sha256').update(fs.readFileSync(p)).digest('hex'), rel).toBe(want.sha256);
        const dt = st.mtimeNs - BigInt(want.mtimeNs!);
        expect(dt < 2000n && dt > -2000n, `${rel} mtime off by ${dt} ns`).toBe(true);
      }
      const restored = fs.readdirSync(root, { recursive: true }).length;
      expect(restored).toBe(Object.keys(manifest.snapshots[snap]!).length);
    });
  }
});
