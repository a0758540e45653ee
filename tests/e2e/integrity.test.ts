/**
 * Damage and bad input: every flipped byte is detected and named; a damaged pack fails
 * only the files that need it; nothing readable leaks into the repository; wrong
 * passphrases and missing repositories give one clear line and a documented exit code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOk, runCli } from '../helpers/cli.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { csvText, seededBytes, write } from '../helpers/tree.js';

const MARKER = 'DUPONT-Jean-1970-01-01-SSN-170017512345678';
const SECRET_NAME = 'Dossier_Patient_Martin_Claire.csv';

function objectsOf(repo: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(repo);
  return out.sort();
}

function flipByte(file: string, at: 'middle' | 'start' | 'end' = 'middle'): void {
  fs.chmodSync(file, 0o644);
  const buf = fs.readFileSync(file);
  const i = at === 'start' ? 0 : at === 'end' ? buf.length - 1 : Math.floor(buf.length / 2);
  buf[i]! ^= 0x01;
  fs.writeFileSync(file, buf);
}

describe('integrity and confidentiality', () => {
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const repo = path.join(dir, 'repo');
  const pw = passwordFile(dir);
  const common = ['--repo', repo, '--password-file', pw];

  beforeAll(async () => {
    write(`${src}/patients/${SECRET_NAME}`, `${MARKER}\n`.repeat(2000));
    write(`${src}/patients/identity.csv`, csvText(3 * 1024 * 1024, 1));
    write(`${src}/scans/scan.bin`, seededBytes(5 * 1024 * 1024, 2));
    write(`${src}/small/a.txt`, 'unrelated small file');
    await cliOk(['init', ...common, '--kdf', 'min']);
    await cliOk(['backup', ...common, src]);
  });

  it('stores no file content and no file name in the clear', () => {
    const needles = [MARKER, SECRET_NAME, 'Dossier_Patient', 'identity.csv', 'unrelated small file', 'patients'];
    const scan = seededBytes(5 * 1024 * 1024, 2).subarray(1_000_000, 1_000_064);
    for (const f of objectsOf(repo)) {
      const bytes = fs.readFileSync(f);
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
    const objects = objectsOf(repo).filter((f) => /\/(data|index|snapshots)\//.test(f));
    expect(objects.length).toBeGreaterThanOrEqual(4);
    for (const obj of objects) {
      for (const at of ['start', 'middle', 'end'] as const) {
        const copy = path.join(dir, `damaged-${path.basename(obj).slice(0, 8)}-${at}`);
        fs.cpSync(repo, copy, { recursive: true });
        const rel = path.relative(repo, obj);
        flipByte(path.join(copy, rel), at);
        const r = await runCli(['check', '--read-data', '--repo', copy, '--password-file', pw]);
        expect(r.code, `${rel} ${at}: ${r.stderr}`).not.toBe(0);
        expect(r.stderr).toContain(path.basename(obj));
        fs.rmSync(copy, { recursive: true, force: true });
      }
    }
  });

  it('restores the files a damaged pack does not hold, and names the ones it does', async () => {
    const copy = path.join(dir, 'damaged-restore');
    fs.cpSync(repo, copy, { recursive: true });
    // The pack holding the random scan: the data pack whose size is the largest.
    const packs = objectsOf(path.join(copy, 'data')).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
    flipByte(packs[0]!, 'start');
    const target = path.join(dir, 'partial-restore');
    const r = await runCli(['restore', 'latest', '--target', target, '--repo', copy, '--password-file', pw]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not restored: .*(scan\.bin|identity\.csv|Dossier)/);
    expect(fs.readFileSync(path.join(target, src, 'small/a.txt'), 'utf8')).toBe('unrelated small file');
    const chk = await runCli(['check', '--read-data', '--repo', copy, '--password-file', pw]);
    expect(chk.code).toBe(4);
    expect(chk.stderr).toMatch(/snapshot [0-9a-f]{8}: \d+ item\(s\) affected/);
  });

  it('detects a truncated pack in the structural check', async () => {
    const copy = path.join(dir, 'truncated');
    fs.cpSync(repo, copy, { recursive: true });
    const pack = objectsOf(path.join(copy, 'data'))[0]!;
    fs.chmodSync(pack, 0o644);
    fs.truncateSync(pack, Math.floor(fs.statSync(pack).size / 2));
    const r = await runCli(['check', '--repo', copy, '--password-file', pw]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(path.basename(pack));
    expect(r.stderr).toMatch(/bytes, the index says/);
  });

  it('refuses a wrong passphrase with exit code 12 and one line', async () => {
    const wrong = passwordFile(dir, 'not the passphrase');
    const r = await runCli(['snapshots', '--repo', repo, '--password-file', wrong]);
    expect(r.code).toBe(12);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^coffre: wrong passphrase/);
  });

  it('opens with the recovery key printed at init', async () => {
    const repo2 = path.join(dir, 'repo2');
    const init = JSON.parse((await cliOk(['init', '--repo', repo2, '--password-file', pw, '--kdf', 'min', '--json'])).stdout);
    expect(init.recoveryKey).toMatch(/^([A-Z2-9]{4}-){7}[A-Z2-9]{4}$/);
    const rec = passwordFile(dir, init.recoveryKey);
    const keys = JSON.parse((await cliOk(['key', 'list', '--json', '--repo', repo2, '--password-file', rec])).stdout);
    expect(keys.map((k: { label: string }) => k.label).sort()).toEqual(['admin', 'recovery']);
  });

  it('reports a missing repository (exit 10), a readable password file (exit 2) and a missing path', async () => {
    const missing = await runCli(['snapshots', '--repo', path.join(dir, 'nope'), '--password-file', pw]);
    expect(missing.code).toBe(10);
    expect(missing.stderr).toMatch(/^coffre: no repository at /);
    const loose = path.join(dir, 'loose-pw');
    fs.writeFileSync(loose, 'x\n', { mode: 0o644 });
    fs.chmodSync(loose, 0o644);
    const r = await runCli(['snapshots', '--repo', repo, '--password-file', loose]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('readable by group or others (mode 0644)');
    const nopath = await runCli(['backup', ...common, path.join(dir, 'no-such-dir')]);
    expect(nopath.code).toBe(2);
    expect(nopath.stderr).toMatch(/cannot back up .*no-such-dir/);
    for (const x of [missing, r, nopath]) expect(x.stderr).not.toMatch(/\n\s+at /);
  });
});
