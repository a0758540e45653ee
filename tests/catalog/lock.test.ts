/**
 * The writer lock between real processes: a second writer is refused (exit 11's error)
 * or waits; a lock left by a killed process, a reused pid or a previous boot is taken
 * over; a lock held on another host is never guessed at. Children use the built code
 * (dist/), as the CLI does: build first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { WriterLock } from '../../src/catalog/lock.js';
import { ExitCode, LockedError } from '../../src/domain/errors.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const REPO = 'cd'.repeat(32);

/** A child process that takes the lock, says so, and holds it until told to release (or killed). */
function holder(file: string): { child: ChildProcess; locked: Promise<void> } {
  const script = `
    const { Catalog } = await import(${JSON.stringify(path.join(ROOT, 'dist/catalog/catalog.js'))});
    const { WriterLock } = await import(${JSON.stringify(path.join(ROOT, 'dist/catalog/lock.js'))});
    const c = Catalog.open(process.argv[1], { repositoryId: '${REPO}' });
    const lock = await WriterLock.acquire(c.db, { command: 'backup' });
    process.stdout.write('locked\\n');
    process.stdin.on('data', () => { lock.release(); c.close(); process.stdout.write('released\\n'); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return { child, locked };
}

describe('writer lock', () => {
  const dir = tempDir();
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  let n = 0;
  const fresh = () => Catalog.fileFor(path.join(dir, `state-${n++}`), REPO);

  it('refuses a second writer with LockedError (exit 11) naming the holder', async () => {
    const file = fresh();
    const h = holder(file);
    children.push(h.child);
    await h.locked;
    const c = Catalog.open(file, { repositoryId: REPO });
    const e = await WriterLock.acquire(c.db, { command: 'catalog rebuild', what: 'the catalog' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LockedError);
    expect((e as LockedError).exitCode).toBe(ExitCode.locked);
    expect((e as LockedError).message).toContain(`"backup" (pid ${h.child.pid} on ${hostname()}`);
    expect((e as LockedError).hint).toBe('wait for it to finish');
    c.close();
  });

  it('waits for the holder when asked to', async () => {
    const file = fresh();
    const h = holder(file);
    children.push(h.child);
    await h.locked;
    const c = Catalog.open(file, { repositoryId: REPO });
    setTimeout(() => h.child.stdin!.write('go\n'), 300);
    const t0 = Date.now();
    const lock = await WriterLock.acquire(c.db, { command: 'backup', waitMs: 10_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(lock.tookOverFrom).toBeUndefined();
    lock.release();
    expect(WriterLock.holder(c.db)).toBeUndefined();
    c.close();
  });

  it('takes over the lock of a process killed with SIGKILL', async () => {
    const file = fresh();
    const h = holder(file);
    children.push(h.child);
    await h.locked;
    const pid = h.child.pid;
    h.child.kill('SIGKILL');
    await new Promise((r) => h.child.once('exit', r));
    const c = Catalog.open(file, { repositoryId: REPO });
    expect(WriterLock.holder(c.db)?.pid).toBe(pid);
    const lock = await WriterLock.acquire(c.db, { command: 'backup' });
    expect(lock.tookOverFrom?.pid).toBe(pid);
    expect(WriterLock.holder(c.db)?.pid).toBe(process.pid);
    lock.release();
    c.close();
  });

  it('tells a reused pid and a previous boot from a live holder; never guesses about another host', async () => {
    const c = Catalog.open(fresh(), { repositoryId: REPO });
    const plant = (h: { pid: number; host: string; bootId: string; procStart: string }) => {
      c.db.prepare('DELETE FROM writer_lock').run();
      c.db.prepare("INSERT INTO writer_lock VALUES (1, ?, ?, ?, ?, 'backup', 0)").run(h.pid, h.host, h.bootId, h.procStart);
    };
    const me = { pid: process.pid, host: hostname(), bootId: '', procStart: '' };
    // This very pid, but started at another time: the pid was reused, the holder is gone.
    plant({ ...me, procStart: '1' });
    (await WriterLock.acquire(c.db, { command: 'backup' })).release();
    // Held before the last reboot.
    plant({ ...me, bootId: '00000000-0000-0000-0000-000000000000' });
    (await WriterLock.acquire(c.db, { command: 'backup' })).release();
    // A live process of this host (ourselves, as recorded by ourselves): held.
    const mine = await WriterLock.acquire(c.db, { command: 'backup' });
    await expect(WriterLock.acquire(c.db, { command: 'backup' })).rejects.toBeInstanceOf(LockedError);
    mine.release();
    // Another host: cannot be checked, refused with the way out.
    plant({ pid: 1, host: 'some-other-host', bootId: '', procStart: '' });
    const e = (await WriterLock.acquire(c.db, { command: 'backup' }).catch((x: unknown) => x)) as LockedError;
    expect(e).toBeInstanceOf(LockedError);
    expect(e.hint).toMatch(/coffre catalog unlock/);
    expect(WriterLock.breakLock(c.db)?.host).toBe('some-other-host');
    (await WriterLock.acquire(c.db, { command: 'backup' })).release();
    c.close();
  });
});
