/**
 * The writer lock of a catalog: at most one process at a time runs a backup or a rebuild
 * through one state directory for one repository. It is a row in the catalog itself, taken
 * and checked in one IMMEDIATE transaction, so two processes cannot both win.
 *
 * It lives in the state directory, never in the repository: backups never create objects
 * that must later be deleted (DESIGN invariant 6). Concurrent writers from other machines
 * (other state directories) need no lock at all: they only add content-addressed objects.
 *
 * A lock left by a dead process is detected and taken over: same host, and the pid is
 * gone, or belongs to a process started at another time (pid reused), or the machine has
 * rebooted since (boot id). A lock held by another host cannot be checked and is refused.
 * @module
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { LockedError } from '../domain/errors.js';
import type { Db } from './catalog.js';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly bootId: string;
  /** the process's start time (clock ticks since boot, /proc/PID/stat field 22) */
  readonly procStart: string;
  readonly command: string;
  /** ms since the epoch */
  readonly since: number;
}

export interface AcquireOptions {
  /** What holds it, for the message another process shows ("backup", "catalog rebuild"). */
  readonly command: string;
  /** Wait up to this long for the holder to finish (default 0: refuse at once). */
  readonly waitMs?: number;
  /** Where to say what is locked, in the error message. */
  readonly what?: string;
}

export class WriterLock {
  private released = false;

  private constructor(
    private readonly db: Db,
    readonly holder: LockHolder,
    /** The lock taken over from a dead process, if any. */
    readonly tookOverFrom: LockHolder | undefined,
  ) {}

  static async acquire(db: Db, opts: AcquireOptions): Promise<WriterLock> {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (;;) {
      const r = tryAcquire(db, opts.command);
      if (r.lock) return new WriterLock(db, r.lock, r.stale);
      const h = r.heldBy!;
      if (Date.now() >= deadline) {
        const since = new Date(h.since).toISOString().slice(0, 19).replace('T', ' ');
        throw new LockedError(`${opts.what ?? 'the state directory'} is locked by "${h.command}" (pid ${h.pid} on ${h.host}, since ${since} UTC)`, {
          hint:
            h.host === hostname()
              ? 'wait for it to finish'
              : `it runs on another host and cannot be checked from here; if it is gone, run "coffre catalog unlock"`,
        });
      }
      await new Promise((res) => setTimeout(res, Math.min(250, Math.max(10, deadline - Date.now()))));
    }
  }

  /** The current holder, if any (for status). */
  static holder(db: Db): LockHolder | undefined {
    return readHolder(db);
  }

  /** Removes the lock whoever holds it (an admin's decision: `coffre catalog unlock`). */
  static breakLock(db: Db): LockHolder | undefined {
    const h = readHolder(db);
    db.prepare('DELETE FROM writer_lock').run();
    return h;
  }

  release(): void {
    if (this.released || !this.db.open) return;
    this.released = true;
    db_release(this.db, this.holder);
  }
}

function db_release(db: Db, me: LockHolder): void {
  db.prepare('DELETE FROM writer_lock WHERE pid = ? AND host = ? AND proc_start = ?').run(me.pid, me.host, me.procStart);
}

function tryAcquire(db: Db, command: string): { lock?: LockHolder; stale?: LockHolder; heldBy?: LockHolder } {
  return db
    .transaction(() => {
      const current = readHolder(db);
      if (current && !isDead(current)) return { heldBy: current };
      const me: LockHolder = { pid: process.pid, host: hostname(), bootId: bootId(), procStart: procStart(process.pid) ?? '', command, since: Date.now() };
      db.prepare('DELETE FROM writer_lock').run();
      db.prepare('INSERT INTO writer_lock (one, pid, host, boot_id, proc_start, command, since) VALUES (1, ?, ?, ?, ?, ?, ?)').run(
        me.pid,
        me.host,
        me.bootId,
        me.procStart,
        me.command,
        me.since,
      );
      return { lock: me, stale: current };
    })
    .immediate();
}

function readHolder(db: Db): LockHolder | undefined {
  const r = db
    .prepare<[], { pid: number; host: string; boot_id: string; proc_start: string; command: string; since: number }>('SELECT * FROM writer_lock')
    .get();
  return r && { pid: r.pid, host: r.host, bootId: r.boot_id, procStart: r.proc_start, command: r.command, since: r.since };
}

/** True only when we can tell the holder is gone; a holder on another host never is. */
export function isDead(h: { pid: number; host: string; bootId?: string; procStart?: string }): boolean {
  if (h.host !== hostname()) return false;
  const boot = bootId();
  if (h.bootId && boot && h.bootId !== boot) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  if (h.procStart) {
    const now = procStart(h.pid);
    if (now !== undefined && now !== h.procStart) return true;
  }
  return false;
}

let cachedBootId: string | undefined;
function bootId(): string {
  cachedBootId ??= readSmall('/proc/sys/kernel/random/boot_id')?.trim() ?? '';
  return cachedBootId;
}

/** The start time of a process (field 22 of /proc/PID/stat), to tell a reused pid apart. */
function procStart(pid: number): string | undefined {
  const stat = readSmall(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function readSmall(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
