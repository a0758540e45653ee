/**
 * Local directory backend. An object "a/b/c" is the file ROOT/a/b/c.
 *
 * Atomic, never-overwriting writes: the bytes go to ROOT/tmp/<random>, are fsynced, then
 * hard-linked to the final name. link(2) fails with EEXIST if the name exists, which gives
 * the same guarantee as S3's If-None-Match: * (a rename would silently replace). The parent
 * directory is fsynced so the new name survives a power cut. Objects are made read-only.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { StorageError } from '../domain/errors.js';
import { fsStorageError } from './fs-errors.js';
import { bodyBytes, isFileBody, type Body, type FileBody, type ObjectInfo, type PutOptions, type Storage, type StorageCapabilities } from './storage.js';

const TMP_DIR = 'tmp';

export class LocalStorage implements Storage {
  readonly capabilities: StorageCapabilities = { rangeReads: true, atomicCreate: true, objectLock: false, readsInFlight: 3, readBytes: 2 * 1024 * 1024 };
  private readonly knownDirs = new Set<string>();

  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  /** Creates the root directory (for `init`); opening an existing repository never does. */
  async create(): Promise<void> {
    await fs.mkdir(path.join(this.root, TMP_DIR), { recursive: true, mode: 0o700 }).catch((e) => {
      throw this.classify(e, this.root);
    });
  }

  async spoolDir(): Promise<string> {
    const dir = path.join(this.root, TMP_DIR);
    try {
      await this.ensureDir(dir);
    } catch (e) {
      throw this.classify(e, TMP_DIR);
    }
    return dir;
  }

  async put(key: string, body: Body, opts?: PutOptions): Promise<void> {
    if (isFileBody(body)) return this.putFile(key, body, opts);
    const tmpDir = path.join(this.root, TMP_DIR);
    const tmp = path.join(tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
    try {
      await this.ensureDir(tmpDir);
      const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      try {
        await fh.writeFile(body);
      } finally {
        await fh.close();
      }
      await this.linkIntoPlace(tmp, key);
    } catch (e) {
      throw this.classify(e, key);
    } finally {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /**
   * A file on the same filesystem becomes the object itself: it is fsynced, made read-only and
   * hard-linked to its final name (the caller then removes its own name). From elsewhere, it
   * is copied in like any other body.
   */
  private async putFile(key: string, body: FileBody, opts?: PutOptions): Promise<void> {
    try {
      await this.linkIntoPlace(body.path, key);
    } catch (e) {
      if ((e as NodeJS.ErrnoException)?.code === 'EXDEV') return this.put(key, await bodyBytes(body), opts);
      throw this.classify(e, key);
    }
  }

  /**
   * The one way an object comes to exist: its file is made durable and read-only, then
   * hard-linked to its final name (link fails if the name exists: objects are never replaced),
   * and the directory entry is made durable.
   */
  private async linkIntoPlace(file: string, key: string): Promise<void> {
    const fh = await fs.open(file, 'r');
    try {
      await fh.sync();
      await fh.chmod(0o444);
    } finally {
      await fh.close();
    }
    const final = this.pathOf(key);
    const dir = path.dirname(final);
    await this.ensureDir(dir);
    await fs.link(file, final);
    await syncDir(dir);
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (e) {
      throw this.classify(e, key);
    }
  }

  async getRange(key: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(this.pathOf(key), 'r');
      const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      if (done < length) {
        throw new StorageError('invalid-range', `${key}: range ${offset}+${length} is past the end of the object`);
      }
      return buf;
    } catch (e) {
      throw this.classify(e, key);
    } finally {
      await fh?.close();
    }
  }

  async stat(key: string): Promise<ObjectInfo> {
    try {
      const st = await fs.stat(this.pathOf(key));
      if (!st.isFile()) throw new StorageError('not-found', `${key}: not a file`);
      return { key, size: st.size };
    } catch (e) {
      throw this.classify(e, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Walk the deepest directory the prefix names fully, then filter by the rest.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    yield* this.walk(dirKey, prefix);
  }

  private async *walk(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    let entries;
    try {
      entries = await fs.readdir(dirKey ? this.pathOf(dirKey) : this.root, { withFileTypes: true });
    } catch (e) {
      const err = this.classify(e, dirKey || '.');
      if (err.kind === 'not-found') return;
      throw err;
    }
    for (const ent of entries) {
      const key = dirKey ? `${dirKey}/${ent.name}` : ent.name;
      if (!dirKey && ent.name === TMP_DIR) continue;
      if (ent.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) yield* this.walk(key, prefix);
      } else if (ent.isFile() && key.startsWith(prefix)) {
        const st = await fs.stat(this.pathOf(key)).catch(() => undefined);
        if (st) yield { key, size: st.size };
      }
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await fs.unlink(this.pathOf(key));
    } catch (e) {
      throw this.classify(e, key);
    }
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new StorageError('other', `invalid object key ${JSON.stringify(key)}`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const first = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    // New directories must survive a power cut too: fsync the parent of each one created
    // (ext4 and xfs order this anyway; other filesystems need it).
    if (first !== undefined) {
      for (let d = dir; ; d = path.dirname(d)) {
        await syncDir(path.dirname(d));
        if (d === first || path.dirname(d) === d) break;
      }
    }
    this.knownDirs.add(dir);
  }

  private classify(e: unknown, key: string): StorageError {
    return fsStorageError(e, path.join(this.root, key));
  }

}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
