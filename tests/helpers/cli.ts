/**
 * Runs the real CLI (bin/coffre.js, built code) as a child process, as admins and the
 * service do.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/coffre.js');

/**
 * The catalog's state directory when a test does not choose one (COFFRE_STATE_DIR in its
 * env): one per test file, so no test writes to ~/.local/state.
 */
export const DEFAULT_STATE_DIR = mkdtempSync(path.join(tmpdir(), 'coffre-state-'));
afterAll(() => {
  if (!process.env.COFFRE_KEEP_TMP) rmSync(DEFAULT_STATE_DIR, { recursive: true, force: true });
});

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { COFFRE_STATE_DIR: DEFAULT_STATE_DIR, ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs the CLI and fails the test with its stderr unless it exits 0. */
export async function cliOk(args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const r = await runCli(args, opts);
  if (r.code !== 0) throw new Error(`coffre ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}
