/**
 * Which key file opened a repository last time on this machine, kept in the state
 * directory (`<repository id>.last-key`) so that the next open tries it first: each wrong
 * guess costs a full Argon2id run. Key files are public objects of the repository, so
 * their ids are no secret. A hint only: unreadable, missing or stale, it changes nothing
 * but the order of the trials, and failing to write it never fails a command.
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isHexId, type KeyId } from '../domain/ids.js';

export function keyHintFile(stateDir: string, repositoryId: string): string {
  return path.join(stateDir, `${repositoryId}.last-key`);
}

export function readKeyHint(stateDir: string, repositoryId: string): KeyId | undefined {
  if (!isHexId(repositoryId)) return undefined;
  try {
    const id = fs.readFileSync(keyHintFile(stateDir, repositoryId), 'utf8').trim();
    return isHexId(id) ? (id as KeyId) : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers `keyId`, writing only when it changed. */
export function writeKeyHint(stateDir: string, repositoryId: string, keyId: KeyId): void {
  if (!isHexId(repositoryId) || readKeyHint(stateDir, repositoryId) === keyId) return;
  const file = keyHintFile(stateDir, repositoryId);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    // Written aside and renamed: a concurrent reader sees the old id or the new one, whole.
    fs.writeFileSync(tmp, `${keyId}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // A hint: the next open only tries the key files in the default order.
    fs.rm(tmp, { force: true }, () => undefined);
  }
}
