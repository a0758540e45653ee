/**
 * The local audit log of one repository: `<stateDir>/audit/<repositoryId>.log`, one sealed
 * entry per line (JSON), appended under a lock file so that the agent and a command run by
 * hand never fork the chain. Beside it, `.head` holds the last entry's sequence number and
 * hash (a log cut short at the end is otherwise still a valid chain), and `.uploaded` how
 * far the repository copy goes.
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { entryHash, GENESIS, seal, type AuditEntry } from './entry.js';

export type NewEntry = Omit<AuditEntry, 'v' | 'chain' | 'seq' | 'prev' | 'mac'>;

export interface Head {
  readonly chain: string;
  readonly seq: number;
  readonly hash: string;
}

/** A line of the log: the entry, or why it could not be read. */
export type LogLine = { readonly line: number; readonly entry: AuditEntry } | { readonly line: number; readonly unreadable: string };

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

export class AuditLog {
  readonly file: string;
  private readonly headFile: string;
  private readonly uploadedFile: string;
  private readonly lockFile: string;

  constructor(
    readonly dir: string,
    readonly repositoryId: string,
  ) {
    const base = path.join(dir, repositoryId);
    this.file = `${base}.log`;
    this.headFile = `${base}.head`;
    this.uploadedFile = `${base}.uploaded`;
    this.lockFile = `${base}.lock`;
  }

  /** Appends one entry, chained to the last one, and returns it. */
  append(e: NewEntry, macKey: Uint8Array): AuditEntry {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return this.locked(() => {
      const last = this.lastEntry();
      const head = this.head();
      // The chain continues from the log; a fresh log starts a new chain.
      const chain = last?.chain ?? head?.chain ?? randomBytes(8).toString('hex');
      const seq = (last?.seq ?? 0) + 1;
      const entry = seal({ v: 1, chain, seq, ...e, prev: last ? entryHash(last) : GENESIS }, macKey);
      const fd = fs.openSync(this.file, 'a', 0o600);
      try {
        fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      writeAtomic(this.headFile, JSON.stringify({ chain, seq, hash: entryHash(entry) } satisfies Head));
      return entry;
    });
  }

  read(): LogLine[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.map((l, k) => {
      try {
        return { line: k + 1, entry: JSON.parse(l) as AuditEntry };
      } catch {
        return { line: k + 1, unreadable: 'not JSON' };
      }
    });
  }

  head(): Head | undefined {
    return readJson<Head>(this.headFile);
  }

  uploadedSeq(): number {
    return readJson<{ seq: number }>(this.uploadedFile)?.seq ?? 0;
  }

  setUploaded(seq: number): void {
    writeAtomic(this.uploadedFile, JSON.stringify({ seq }));
  }

  /** The entries after `seq`, read from the end of the file (the log only grows; a record reads what it appended). */
  entriesAfter(seq: number): AuditEntry[] {
    for (let chunk = TAIL_CHUNK; ; chunk *= 8) {
      const { text, whole } = readTail(this.file, chunk);
      const lines = text.split('\n').filter((l) => l !== '');
      if (!whole) lines.shift(); // the first line of a chunk may be cut
      const out: AuditEntry[] = [];
      let reached = whole;
      for (const l of lines) {
        try {
          const e = JSON.parse(l) as AuditEntry;
          if (e.seq <= seq) reached = true;
          else out.push(e);
        } catch {
          // an unreadable line: verify names it
        }
      }
      if (reached || whole) return out;
    }
  }

  private lastEntry(): AuditEntry | undefined {
    const { text } = readTail(this.file, TAIL_CHUNK);
    const lines = text.split('\n').filter((l) => l !== '');
    for (let k = lines.length - 1; k >= 0; k--) {
      try {
        return JSON.parse(lines[k]!) as AuditEntry;
      } catch {
        // a torn or unreadable line: the one before it
      }
    }
    // Nothing readable in the tail: read it all (a very long unreadable end).
    const all = this.read();
    for (let k = all.length - 1; k >= 0; k--) {
      const l = all[k]!;
      if ('entry' in l) return l.entry;
    }
    return undefined;
  }

  private locked<T>(fn: () => T): T {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const fd = fs.openSync(this.lockFile, 'wx', 0o600);
        try {
          fs.writeSync(fd, String(process.pid));
        } finally {
          fs.closeSync(fd);
        }
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        // A holder killed while appending leaves its lock: appends take milliseconds, so a lock
        // whose process is gone, or older than LOCK_STALE_MS, is stale.
        const judged = fileIdentity(this.lockFile);
        if (judged === undefined) continue; // released meanwhile
        const age = Date.now() - Number(judged.mtimeMs);
        if (age > LOCK_STALE_MS || holderIsGone(this.lockFile)) {
          if (!removeStaleLock(this.lockFile, judged)) sleep(2);
        } else if (Date.now() > deadline) throw new Error(`audit log ${this.file} is locked by another process (${this.lockFile})`);
        else sleep(20);
      }
    }
    try {
      return fn();
    } finally {
      fs.rmSync(this.lockFile, { force: true });
    }
  }
}

type FileIdentity = fs.BigIntStats;

function fileIdentity(file: string): FileIdentity | undefined {
  return fs.statSync(file, { bigint: true, throwIfNoEntry: false });
}

/** A takeover left by a process killed in the middle of one (which takes microseconds). */
const TAKEOVER_STALE_MS = 5_000;

/**
 * Removes a stale lock, unless it is no longer the file that was judged stale: two processes
 * that found the same dead lock must not both remove "the lock", or the second would remove
 * the lock the first had just taken, and both would append at once. Takeovers are serialised
 * by a second file created exclusively, and the lock is removed only if it is still the same
 * file (inode and change time). Returns false when another process is taking over (try again).
 * @internal exported for the tests
 */
export function removeStaleLock(lockFile: string, judged: FileIdentity): boolean {
  const takeover = `${lockFile}.takeover`;
  let fd: number;
  try {
    fd = fs.openSync(takeover, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = fs.statSync(takeover, { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > TAKEOVER_STALE_MS) fs.rmSync(takeover, { force: true });
    return false;
  }
  fs.closeSync(fd);
  try {
    const now = fileIdentity(lockFile);
    if (now && now.ino === judged.ino && now.dev === judged.dev && now.ctimeNs === judged.ctimeNs) fs.rmSync(lockFile, { force: true });
    return true;
  } finally {
    fs.rmSync(takeover, { force: true });
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The lock names a process (its pid) that no longer runs. An empty or unreadable lock is not judged. */
function holderIsGone(lockFile: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(lockFile, 'utf8'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const TAIL_CHUNK = 64 * 1024;

function readTail(file: string, bytes: number): { text: string; whole: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', whole: true };
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const n = Math.min(size, bytes);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    return { text: buf.toString('utf8'), whole: n === size };
  } finally {
    fs.closeSync(fd);
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
