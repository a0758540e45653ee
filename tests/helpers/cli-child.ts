/**
 * The CLI as a child process the test keeps a hand on, to kill it at a chosen moment (a
 * power cut, the OOM killer, an admin's kill -9) rather than wait for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT, type CliResult } from './cli.js';

export interface RunningCli {
  readonly child: ChildProcess;
  /** Settles when the process has exited, however it ended. */
  readonly done: Promise<CliResult>;
  /** Whether it has exited already. */
  exited(): boolean;
}

export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, exited: () => exited };
}

/**
 * Polls `condition` until it holds; false if `cli` exited first (it finished before the moment
 * the test wanted to catch it in).
 */
export async function waitWhileRunning(cli: RunningCli, condition: () => Promise<boolean>, pollMs = 25): Promise<boolean> {
  while (!cli.exited()) {
    if (await condition()) return true;
    await sleep(pollMs);
  }
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
