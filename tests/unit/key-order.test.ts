/**
 * Opening tries the key files in the order most likely to succeed at once (the key that
 * opened the repository last time, recovery keys last), because each trial is a full
 * Argon2id run. Only the order may change: every passphrase opens what it opened before,
 * and a wrong one still tries every key file.
 *
 * The order is observed through a damaged key file: it fails the open only if its turn
 * comes before the key file the passphrase opens.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readKeyHint, writeKeyHint, keyHintFile } from '../../src/app/key-hint.js';
import { IntegrityError, UsageError, WrongPasswordError } from '../../src/domain/errors.js';
import type { KeyId } from '../../src/domain/ids.js';
import type { KeyFile } from '../../src/repository/keyfile.js';
import { initRepository } from '../../src/repository/init.js';
import { keyFileKey } from '../../src/repository/layout.js';
import { Repository } from '../../src/repository/repository.js';
import { trialOrder } from '../../src/repository/unlock.js';
import { LocalStorage } from '../../src/storage/local.js';
import { tempDir } from '../helpers/tmp.js';

const id = (c: string) => c.repeat(64) as KeyId;
const file = (label: string): KeyFile => ({ version: 1, created: '', host: '', username: '', label, repositoryId: 'r', kdf: { algorithm: 'argon2id13', opsLimit: 1, memLimit: 1, salt: '' }, keys: '' });

describe('trialOrder', () => {
  const [a, b, c, d] = [id('a'), id('b'), id('c'), id('d')];

  it('keeps the listing order, with recovery keys last', () => {
    const files = new Map<KeyId, KeyFile | Error>([
      [a, file('recovery')],
      [b, file('admin')],
      [c, new Error('unreadable')],
      [d, file('agent')],
    ]);
    expect(trialOrder([a, b, c, d], files)).toEqual([b, c, d, a]);
  });

  it('tries the remembered key first, even a recovery key, asking with the repository id the key files state', () => {
    const files = new Map<KeyId, KeyFile | Error>([
      [a, file('admin')],
      [b, file('recovery')],
      [c, file('admin')],
    ]);
    const asked: string[] = [];
    expect(trialOrder([a, b, c], files, (r) => (asked.push(r), c))).toEqual([c, a, b]);
    expect(trialOrder([a, b, c], files, () => b)).toEqual([b, a, c]);
    expect(asked).toEqual(['r']);
    // A remembered key that no longer exists changes nothing.
    expect(trialOrder([a, b, c], files, () => d)).toEqual([a, c, b]);
  });
});

describe('opening a repository with several key files', () => {
  async function setUp() {
    const dir = tempDir();
    const storage = new LocalStorage(path.join(dir, 'repo'));
    const admin = Buffer.from('admin passphrase');
    const init = await initRepository(storage, admin, { kdf: 'min' });
    const repo = await Repository.open(storage, admin, { workers: 0 });
    const ops = Buffer.from('second passphrase');
    const opsId = await repo.addKey(ops, { profile: 'min', label: 'ops' });
    await repo.close();
    const recovery = Buffer.from(init.recoveryKey!);
    const all = fs.readdirSync(path.join(dir, 'repo', 'keys')) as KeyId[];
    const recoveryId = all.find((k) => k !== init.keyId && k !== opsId)!;
    return { dir, storage, repositoryId: init.repositoryId, keys: { admin: [admin, init.keyId], ops: [ops, opsId], recovery: [recovery, recoveryId] } as const };
  }

  it('opens with each passphrase, whatever key is remembered, and reports the key file that opened it', async () => {
    const { storage, repositoryId, keys } = await setUp();
    for (const [pw, expected] of Object.values(keys)) {
      for (const remembered of [undefined, ...Object.values(keys).map((k) => k[1])]) {
        const asked: string[] = [];
        const repo = await Repository.open(storage, pw, { workers: 0, firstKey: (r) => (asked.push(r), remembered) });
        expect(repo.keyId).toBe(expected);
        expect(asked).toEqual([repositoryId]);
        await repo.close();
      }
    }
  });

  it('tries the remembered key first', async () => {
    const { dir, storage, keys } = await setUp();
    const [opsPw, opsId] = keys.ops;
    const adminId = keys.admin[1];
    fs.writeFileSync(path.join(dir, 'repo', 'keys', adminId), 'not a key file');
    const repo = await Repository.open(storage, opsPw, { workers: 0, firstKey: () => opsId });
    expect(repo.keyId).toBe(opsId);
    await repo.close();
    // Remembering the damaged one makes it come first: its turn fails the open.
    await expect(Repository.open(storage, opsPw, { workers: 0, firstKey: () => adminId })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('tries recovery keys last', async () => {
    const { dir, storage, keys } = await setUp();
    // A recovery key file whose KDF cannot run: reaching it fails the open.
    const recFile = path.join(dir, 'repo', 'keys', keys.recovery[1]);
    const rec = JSON.parse(fs.readFileSync(recFile, 'utf8')) as { kdf: { algorithm: string } };
    rec.kdf.algorithm = 'not-argon2';
    fs.writeFileSync(recFile, JSON.stringify(rec));
    for (const [pw, expected] of [keys.admin, keys.ops]) {
      const repo = await Repository.open(storage, pw, { workers: 0 });
      expect(repo.keyId).toBe(expected);
      await repo.close();
    }
    // A wrong passphrase does reach it.
    await expect(Repository.open(storage, Buffer.from('wrong'), { workers: 0 })).rejects.toBeInstanceOf(UsageError);
  });

  it('a wrong passphrase still tries every key file and fails the same way, remembered key or not', async () => {
    const { storage, keys } = await setUp();
    for (const remembered of [undefined, keys.ops[1], keys.recovery[1]]) {
      const e = await Repository.open(storage, Buffer.from('wrong'), { workers: 0, firstKey: () => remembered }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WrongPasswordError);
      expect((e as Error).message).toMatch(/^wrong passphrase: it opens none of the 3 key file\(s\) of /);
    }
  });
});

describe('the remembered key (state directory)', () => {
  it('is read back, written only when it changes, and ignored when unreadable', () => {
    const state = path.join(tempDir(), 'state');
    const repo = 'f'.repeat(64);
    expect(readKeyHint(state, repo)).toBeUndefined();
    writeKeyHint(state, repo, id('a'));
    expect(readKeyHint(state, repo)).toBe(id('a'));
    expect(fs.statSync(keyHintFile(state, repo)).mode & 0o777).toBe(0o600);
    const before = fs.statSync(keyHintFile(state, repo)).ino;
    writeKeyHint(state, repo, id('a'));
    expect(fs.statSync(keyHintFile(state, repo)).ino).toBe(before);
    writeKeyHint(state, repo, id('b'));
    expect(readKeyHint(state, repo)).toBe(id('b'));
    fs.writeFileSync(keyHintFile(state, repo), 'garbage\n');
    expect(readKeyHint(state, repo)).toBeUndefined();
    // Not a repository id: never used as a file name.
    writeKeyHint(state, '../x', id('a'));
    expect(fs.readdirSync(state)).toEqual([path.basename(keyHintFile(state, repo))]);
  });
});
