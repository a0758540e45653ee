/**
 * The agent as a child process (bin/coffre.js agent, built code), as systemd runs it: its
 * JSON log lines parsed as they come, waits on log lines with generous deadlines, signals.
 * COFFRE_TEST_AGENT_LOG=1 prints each agent's log when it stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, cliOk, ROOT } from './cli.js';
import { passwordFile } from './tmp.js';

export interface LogLine {
  level: string;
  msg: string;
  job?: string;
  outcome?: string;
  [k: string]: unknown;
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  readonly stderr: () => string;
  /** Resolves with the first line (from `from` on) that `match` accepts; rejects after `timeoutMs` or if the agent exits. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  /** Sends a signal and waits for the exit; the time it took is measured from the signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startAgent(configFile: string, env: NodeJS.ProcessEnv = {}): AgentProcess {
  const child = spawn(process.execPath, [BIN, 'agent', '--config', configFile], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      if (!p.trim()) continue;
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        lines.push({ level: 'raw', msg: p });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  const waitFor = (match: (l: LogLine) => boolean, timeoutMs = 60_000, from = 0) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const hit = lines.slice(from).find(match);
        if (hit) return finish(() => resolve(hit));
        if (done) return finish(() => reject(new Error(`the agent exited before the expected log line; stderr: ${stderr}\n${tail(lines)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no such log line within ${timeoutMs} ms; last lines:\n${tail(lines)}`))), timeoutMs);
      const finish = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const t0 = Date.now();
    if (!done) child.kill(signal);
    const r = await exited;
    const ms = Date.now() - t0;
    if (process.env.COFFRE_TEST_AGENT_LOG) process.stderr.write(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n${stderr}`);
    return { ...r, ms };
  };
  return { child, lines, stderr: () => stderr, waitFor, stop, exited };
}

function tail(lines: readonly LogLine[]): string {
  return lines
    .slice(-15)
    .map((l) => JSON.stringify(l))
    .join('\n');
}

/** A local repository (fast key file) with its passphrase file, a state dir and a source dir. */
export async function agentFixture(dir: string, repo = path.join(dir, 'repo'), env: NodeJS.ProcessEnv = {}) {
  const pw = passwordFile(dir);
  const state = path.join(dir, 'state');
  const src = path.join(dir, 'src');
  fs.mkdirSync(src, { recursive: true });
  await cliOk(['init', '--repo', repo, '--password-file', pw, '--kdf', 'interactive'], { env });
  return { repo, pw, state, src };
}

export function writeConfig(dir: string, config: Record<string, unknown>, name = 'agent.config.json'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Paths of the latest snapshot (absolute, as backed up). */
export async function latestPaths(repo: string, pw: string, state: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const r = await cliOk(['ls', 'latest', '--json', '--repo', repo, '--password-file', pw, '--state-dir', state], { env });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { path: string }).path);
}

export const isBackupDone = (l: LogLine) => l.job === 'backup' && (l.outcome === 'ok' || l.outcome === 'incomplete');
