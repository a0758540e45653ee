/**
 * Generating test trees on disk and describing trees for comparison: type, mode, size,
 * content hash, mtime (ns) and link target of every item below a root.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ItemInfo {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  mtimeNs: bigint;
  sha256?: string;
  target?: string;
}

/** Every item below `root`, keyed by its path relative to root. */
export function describeTree(root: string): Map<string, ItemInfo> {
  const out = new Map<string, ItemInfo>();
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(full, { bigint: true });
      const base = { mode: Number(st.mode & 0o7777n), size: Number(st.size), mtimeNs: st.mtimeNs };
      if (st.isSymbolicLink()) out.set(r, { ...base, type: 'symlink', size: 0, target: fs.readlinkSync(full) });
      else if (st.isDirectory()) {
        out.set(r, { ...base, type: 'dir', size: 0 });
        walk(full, r);
      } else out.set(r, { ...base, type: 'file', sha256: createHash('sha256').update(fs.readFileSync(full)).digest('hex') });
    }
  };
  walk(root, '');
  return out;
}

/** Differences between two trees, as readable lines; mtimes may differ by up to 2 µs (utimes takes a double). */
export function diffTrees(expected: Map<string, ItemInfo>, actual: Map<string, ItemInfo>, opts: { mtimes?: boolean } = {}): string[] {
  const diffs: string[] = [];
  for (const [p, e] of expected) {
    const a = actual.get(p);
    if (!a) {
      diffs.push(`missing: ${p}`);
      continue;
    }
    for (const k of ['type', 'mode', 'size', 'sha256', 'target'] as const) {
      if (e[k] !== a[k]) diffs.push(`${p}: ${k} ${String(a[k])} != ${String(e[k])}`);
    }
    const dt = e.mtimeNs - a.mtimeNs;
    if (opts.mtimes !== false && e.type !== 'symlink' && (dt > 2000n || dt < -2000n)) diffs.push(`${p}: mtime differs by ${dt} ns`);
  }
  for (const p of actual.keys()) if (!expected.has(p)) diffs.push(`unexpected: ${p}`);
  return diffs;
}

/** Deterministic pseudo-random bytes (fast): a seeded xorshift stream. */
export function seededBytes(n: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32LE(x >>> 0, i);
  }
  for (; i < n; i++) buf[i] = (x = (x * 1103515245 + 12345) >>> 0) & 0xff;
  return buf;
}

/** Text that compresses like patient-identity CSV rows (names, dates, numbers). */
export function csvText(n: number, seed: number): Buffer {
  const names = ['MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'SIMON', 'LAURENT', 'LEFEBVRE'];
  const r = seededBytes(Math.ceil(n / 4) + 64, seed);
  let s = '';
  for (let i = 0; s.length < n; i += 6) {
    const a = r[i % r.length]!;
    const b = r[(i + 1) % r.length]!;
    s += `${r.readUInt32LE(i % (r.length - 4))},${names[a % names.length]},${names[b % names.length]},19${10 + (a % 90)}-0${1 + (b % 9)}-1${a % 10},${b * 1e9 + a},${a} rue de la Paix,59000 Lille\n`;
  }
  return Buffer.from(s.slice(0, n));
}

export function write(p: string, data: Buffer | string, mode?: number): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  if (mode !== undefined) fs.chmodSync(p, mode);
}

export function randomName(): string {
  return randomBytes(6).toString('hex');
}
