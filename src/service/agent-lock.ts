/**
 * One agent per state directory. The lock is a listening Unix socket in Linux's abstract
 * namespace, named after the state directory's device and inode: the kernel frees the name
 * the instant the process ends, however it ends (SIGKILL, crash, out of memory), so there
 * is never a stale lock to detect or break, and two agents cannot both hold it. A second
 * agent connects to the socket to learn who holds it, for its error message.
 *
 * It guards the agent as a whole, even while the repository cannot be reached. Writing to
 * the repository also takes the catalog's writer lock, per job, so that a manual
 * `coffre backup` between two jobs works and one during a job is refused.
 * (Abstract names are per network namespace: agents in two containers sharing a state
 * directory are not kept apart by this; the catalog's writer lock still is.)
 * @module
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { LockedError } from '../domain/errors.js';

interface Holder {
  readonly pid: number;
  readonly since: string;
}

export class AgentLock {
  private constructor(
    private readonly server: net.Server,
    readonly name: string,
  ) {}

  static async acquire(stateDir: string): Promise<AgentLock> {
    const name = lockName(stateDir);
    const me: Holder = { pid: process.pid, since: new Date().toISOString() };
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(`${JSON.stringify(me)}\n`);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(name, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      const h = await askHolder(name);
      const who = h ? ` (pid ${h.pid}, running since ${h.since})` : '';
      throw new LockedError(`state directory ${stateDir} is in use by another coffre agent${who}`, {
        hint: 'one agent per state directory: stop the other one, or give this one its own stateDir',
      });
    }
    server.unref();
    return new AgentLock(server, name);
  }

  release(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Whether an agent holds a state directory (for `coffre status`). The connect alone says it:
 * the name exists exactly as long as the agent's process. Not waiting for its answer matters,
 * because the agent's event loop may be busy with a backup for a second or two.
 */
export function agentRunning(stateDir: string): Promise<boolean> {
  let name: string;
  try {
    name = lockName(stateDir);
  } catch {
    return Promise.resolve(false); // no state directory: no agent
  }
  return new Promise((resolve) => {
    const socket = net.connect(name);
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function lockName(stateDir: string): string {
  const st = fs.statSync(fs.realpathSync(stateDir));
  return `\0coffre-agent-${st.dev}-${st.ino}`;
}

function askHolder(name: string): Promise<Holder | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect(name);
    const done = (h: Holder | undefined) => {
      socket.destroy();
      resolve(h);
    };
    socket.setTimeout(2000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => {
      try {
        done(JSON.parse(text) as Holder);
      } catch {
        done(undefined);
      }
    });
  });
}
