/**
 * The audit chain on its own (real files, no repository): entries are sealed and chained,
 * and every kind of tampering with the local log — an edited field, a removed line, two
 * lines swapped, the end cut off, a forged line — is found and named by sequence number.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryHash, GENESIS, seal, type AuditEntry } from '../../src/audit/entry.js';
import { AuditLog, removeStaleLock, type NewEntry } from '../../src/audit/log.js';
import { pseudonym } from '../../src/audit/names.js';
import { compareCopies, verifyLocal } from '../../src/audit/verify.js';
import { tempDir } from '../helpers/tmp.js';

const KEY = Buffer.alloc(32, 7);
const entry = (k: number): NewEntry => ({ time: `2026-01-01T00:00:0${k}.000Z`, user: 'root', host: 'srv', action: 'backup', result: 'ok', counts: { filesNew: k } });

function freshLog(n = 5): AuditLog {
  const log = new AuditLog(path.join(tempDir(), 'audit'), 'a'.repeat(64));
  for (let k = 1; k <= n; k++) log.append(entry(k), KEY);
  return log;
}
const verify = (log: AuditLog) => verifyLocal(log.read(), log.head(), KEY, 'local log');
const lines = (log: AuditLog) => fs.readFileSync(log.file, 'utf8').trimEnd().split('\n');
const rewrite = (log: AuditLog, ls: string[]) => fs.writeFileSync(log.file, `${ls.join('\n')}\n`);

describe('audit chain', () => {
  it('chains sealed entries 1, 2, 3… and verifies them', () => {
    const log = freshLog();
    const es = log.read().map((l) => ('entry' in l ? l.entry : undefined)) as AuditEntry[];
    expect(es.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(es[0]!.prev).toBe(GENESIS);
    expect(es[3]!.prev).toBe(entryHash(es[2]!));
    expect(new Set(es.map((e) => e.chain)).size).toBe(1);
    expect(verify(log)).toEqual([]);
    expect(fs.statSync(log.file).mode & 0o077).toBe(0);
  });

  it('takes over at once a lock left by a killed process, and waits for a live holder', () => {
    const log = freshLog(1);
    const lock = log.file.replace(/\.log$/, '.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(lock, dead);
    // The lock is fresh (30 s would make it stale), so only its dead holder lets this append
    // through: otherwise it would wait 10 s and fail, as in the live case below.
    log.append(entry(2), KEY);
    expect(fs.existsSync(lock)).toBe(false);
    // A live holder (pid 1 runs): the append gives up after its wait, naming the lock.
    fs.writeFileSync(lock, '1');
    expect(() => log.append(entry(3), KEY)).toThrow(/locked by another process/);
    fs.rmSync(lock);
    expect(verify(log)).toEqual([]);
  });

  it('removes a stale lock only if it is still the file judged stale, one takeover at a time', () => {
    const log = freshLog(1);
    const lock = log.file.replace(/\.log$/, '.lock');
    fs.writeFileSync(lock, '999999999');
    const judged = fs.statSync(lock, { bigint: true });
    // Another process took the lock over meanwhile: its new lock file must stay.
    fs.writeFileSync(`${lock}.new`, String(process.pid));
    fs.renameSync(`${lock}.new`, lock);
    expect(removeStaleLock(lock, judged)).toBe(true);
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(process.pid));
    // Still the judged file: removed.
    expect(removeStaleLock(lock, fs.statSync(lock, { bigint: true }))).toBe(true);
    expect(fs.existsSync(lock)).toBe(false);
    // Another takeover in progress: wait for it (false), unless it was left by a killed process long ago.
    fs.writeFileSync(lock, '999999999');
    const takeover = `${lock}.takeover`;
    fs.writeFileSync(takeover, '');
    expect(removeStaleLock(lock, fs.statSync(lock, { bigint: true }))).toBe(false);
    expect(fs.existsSync(lock)).toBe(true);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(takeover, old, old);
    expect(removeStaleLock(lock, fs.statSync(lock, { bigint: true }))).toBe(false);
    expect(fs.existsSync(takeover)).toBe(false);
    expect(removeStaleLock(lock, fs.statSync(lock, { bigint: true }))).toBe(true);
    expect(fs.existsSync(lock)).toBe(false);
    // and an append after all that finds the log whole
    log.append(entry(2), KEY);
    expect(verify(log)).toEqual([]);
  });

  it('finds an edited entry', () => {
    const log = freshLog();
    const ls = lines(log);
    ls[2] = ls[2]!.replace('"result":"ok"', '"result":"failed"');
    rewrite(log, ls);
    expect(verify(log)).toEqual(['local log: entry 3 was altered (its MAC does not verify)', 'local log: entry 4 does not follow entry 3 (chain broken: removed, altered or reordered)']);
  });

  it('finds a removed entry', () => {
    const log = freshLog();
    const ls = lines(log);
    ls.splice(1, 1);
    rewrite(log, ls);
    expect(verify(log)).toEqual(['local log: entry 2 is missing (removed?)']);
  });

  it('finds reordered entries', () => {
    const log = freshLog();
    const ls = lines(log);
    [ls[1], ls[2]] = [ls[2]!, ls[1]!];
    rewrite(log, ls);
    expect(verify(log)).toEqual(['local log: entry 2 is out of order (after entry 3)']);
  });

  it('finds a log cut short at the end, by its head record and by the repository copy', () => {
    const log = freshLog();
    const all = log.read().map((l) => ('entry' in l ? l.entry : undefined)) as AuditEntry[];
    rewrite(log, lines(log).slice(0, 3));
    expect(verify(log)).toEqual(['local log: ends at entry 3, but entry 5 was written (truncated)']);
    const local = all.slice(0, 3);
    expect(compareCopies(local, all, 5)).toEqual(['local log: ends at entry 3, but the repository copy has 2 later entries (truncated)']);
  });

  it('finds an entry forged without the key, even with the chain recomputed', () => {
    const log = freshLog(2);
    const [a] = log.read().map((l) => ('entry' in l ? l.entry : undefined)) as AuditEntry[];
    const forged = seal({ ...a!, seq: 2, action: 'restore', prev: entryHash(a!) }, Buffer.alloc(32, 9));
    rewrite(log, [lines(log)[0]!, JSON.stringify(forged)]);
    expect(verify(log)).toContain('local log: entry 2 was altered (its MAC does not verify)');
  });

  it('tells the repository copy and the local log apart when they disagree or an uploaded entry is gone', () => {
    const log = freshLog(3);
    const local = log.read().map((l) => ('entry' in l ? l.entry : undefined)) as AuditEntry[];
    expect(compareCopies(local, local, 3)).toEqual([]);
    expect(compareCopies(local, [local[0]!, local[2]!], 3)).toEqual(['repository copy: entry 2 is missing (it was uploaded: removed from the repository?)']);
    // Not uploaded yet (read-only storage, storage down): not a problem.
    expect(compareCopies(local, [local[0]!], 1)).toEqual([]);
    const other = { ...local[1]!, mac: 'f'.repeat(64) };
    expect(compareCopies(local, [local[0]!, other, local[2]!], 3)).toEqual(['entry 2 differs between the local log and the repository copy']);
  });

  it('pseudonymises paths with a keyed hash: stable, and nothing of the name shows', () => {
    expect(pseudonym(KEY, '/srv/identites/dupont-jean.csv')).toBe(pseudonym(KEY, '/srv/identites/dupont-jean.csv'));
    expect(pseudonym(KEY, '/srv/identites/dupont-jean.csv')).not.toBe(pseudonym(Buffer.alloc(32, 8), '/srv/identites/dupont-jean.csv'));
    expect(pseudonym(KEY, '/srv/identites/dupont-jean.csv')).toMatch(/^~[0-9a-f]{20}$/);
  });
});
