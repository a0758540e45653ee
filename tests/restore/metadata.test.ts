/**
 * Mode, owner and times of restored files and directories are applied through a descriptor
 * (restorer/file-writer.ts, applyMetadata): a name swapped for a symlink or a FIFO between
 * the restore creating it and finishing it is refused, and the link's target keeps its mode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyMetadata } from '../../src/restorer/file-writer.js';
import type { TreeNode } from '../../src/repository/tree.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
const MTIME_NS = '1700000000123456789';

function node(type: 'file' | 'dir', mode: number): TreeNode {
  return { name: 'x', type, mode, mtimeNs: MTIME_NS, uid: process.getuid!(), gid: process.getgid!(), ...(type === 'file' ? { size: 3, content: [] } : {}) } as unknown as TreeNode;
}

describe('applyMetadata', () => {
  it('sets mode and mtime of a file and of a directory', async () => {
    const f = path.join(dir, 'plain');
    fs.writeFileSync(f, 'abc', { mode: 0o600 });
    await applyMetadata(f, node('file', 0o640));
    const st = fs.statSync(f, { bigint: true });
    expect(Number(st.mode & 0o7777n)).toBe(0o640);
    expect(st.mtimeNs / 1_000_000n).toBe(BigInt(MTIME_NS) / 1_000_000n);

    const d = path.join(dir, 'sub');
    fs.mkdirSync(d, { mode: 0o700 });
    await applyMetadata(d, node('dir', 0o751));
    expect(fs.statSync(d).mode & 0o7777).toBe(0o751);
  });

  it('refuses a symlink swapped in for the file, and leaves its target alone', async () => {
    const target = path.join(dir, 'precious');
    fs.writeFileSync(target, 'secret', { mode: 0o600 });
    const part = path.join(dir, '.coffre-swapped.part');
    fs.symlinkSync(target, part);
    await expect(applyMetadata(part, node('file', 0o666))).rejects.toThrow();
    expect(fs.statSync(target).mode & 0o7777).toBe(0o600);
  });

  it('refuses a FIFO swapped in for the file instead of blocking on it', async () => {
    const fifo = path.join(dir, '.coffre-fifo.part');
    execFileSync('mkfifo', [fifo]);
    await expect(applyMetadata(fifo, node('file', 0o644))).rejects.toThrow(/replaced/);
  });

  it('refuses a file where a directory was made', async () => {
    const f = path.join(dir, 'not-a-dir');
    fs.writeFileSync(f, 'x');
    await expect(applyMetadata(f, node('dir', 0o755))).rejects.toThrow(/replaced/);
  });
});
