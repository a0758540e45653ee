/**
 * The storage port: a flat namespace of immutable objects named by opaque keys
 * ("data/3f/3fa2…", "snapshots/…"). Storage knows nothing of what the bytes mean.
 *
 * Contract every backend and wrapper honours (tests/storage/contract.ts checks it):
 * - `put` creates an object atomically or not at all, and never replaces an existing one:
 *   it fails with StorageError kind 'already-exists' instead. Readers never see a partial object.
 * - `get`/`getRange`/`stat` fail with kind 'not-found' for a missing key; `getRange` past the end
 *   fails with 'invalid-range'. Nothing returns fewer bytes than asked without an error.
 * - What `get`/`getRange` return is the caller's to overwrite and to move to another thread:
 *   restore and check decrypt it in place in worker threads. Its ArrayBuffer holds nothing
 *   else, unless it is Node's shared pool of small buffers (which workers/transfer.ts copies
 *   rather than moves). A backend or wrapper that keeps bytes (a cache) returns a copy.
 * - `list(prefix)` yields every object whose key starts with `prefix`, each once, in no given order.
 * - Errors are StorageError with a kind; only 'transient' ones are worth retrying.
 * - `delete` of a missing key either succeeds or fails with 'not-found' (S3 answers success).
 * Behaviour (retries, read-only, rate limits, fault injection) is added by wrapping a Storage,
 * never by growing this interface. The two optional Object Lock methods exist only on backends
 * that have Object Lock (S3); wrappers pass them through when the inner storage has them.
 * @module
 */
import { readFile } from 'node:fs/promises';

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

export type RetentionMode = 'compliance' | 'governance';

export interface Retention {
  readonly mode: RetentionMode;
  readonly until: Date;
}

/**
 * A body already written to a local file: a pack that a worker thread wrote to disk while it
 * built it, so that its bytes never sit in memory. `sha256` is the digest of the file's bytes
 * (the pack id), which spares the backend hashing them again. The file belongs to the caller:
 * the backend only reads it (or hard-links it, when it is on the same filesystem), and the
 * caller deletes it after `put`, whatever the outcome.
 */
export interface FileBody {
  readonly path: string;
  readonly size: number;
  readonly sha256: Buffer;
}

export type Body = Uint8Array | FileBody;

export function isFileBody(body: Body): body is FileBody {
  return !(body instanceof Uint8Array);
}

export function bodySize(body: Body): number {
  return isFileBody(body) ? body.size : body.byteLength;
}

/** The bytes of a body, read from its file if need be (for the rare paths that compare or split it). */
export async function bodyBytes(body: Body): Promise<Buffer> {
  if (!isFileBody(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return readFile(body.path);
}

export interface PutOptions {
  /** Write-once retention (S3 Object Lock). Backends without it make the object read-only if they can. */
  readonly retention?: Retention;
}

export interface StorageCapabilities {
  /** `getRange` reads only the requested bytes (otherwise it may fetch more). */
  readonly rangeReads: boolean;
  /** The server itself refuses to overwrite (local link(2), S3 If-None-Match: *). */
  readonly atomicCreate: boolean;
  /** Object Lock retention is enforced by the server. */
  readonly objectLock: boolean;
  /**
   * Reads worth having in flight at once to keep a reader busy: a few for a local disk, whose
   * reads come from the page cache or a queue of its own; more for a server, to cover the
   * round trips. Each one holds its bytes in memory while it waits.
   */
  readonly readsInFlight: number;
  /**
   * Bytes worth asking for in one ranged read when a reader may choose (restore, check): a
   * local disk serves small reads as fast as large ones, so small ones keep less in memory;
   * each request to a server costs a round trip, so fewer, larger ones.
   */
  readonly readBytes: number;
}

export interface Storage {
  /** Where the objects live, for humans and logs: never contains credentials. */
  readonly location: string;
  readonly capabilities: StorageCapabilities;
  put(key: string, body: Body, opts?: PutOptions): Promise<void>;
  get(key: string): Promise<Buffer>;
  /**
   * `into`: a buffer of at least `length` bytes the caller reuses from read to read; the bytes
   * are read into it and a view of it is returned, sparing an allocation per read. A backend
   * may ignore it and return a buffer of its own (one that is the caller's, see above).
   */
  getRange(key: string, offset: number, length: number, into?: Buffer): Promise<Buffer>;
  stat(key: string): Promise<ObjectInfo>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
  /**
   * A local directory where a FileBody is cheapest to hand to `put` (the local backend's own
   * tmp/, on the same filesystem, so the file is linked instead of copied). Backends without
   * one leave it undefined and writers use the system's temporary directory.
   */
  spoolDir?(): Promise<string>;
  /** Whether the bucket itself has Object Lock enabled (`init` refuses lock options otherwise). */
  objectLock?(): Promise<{ enabled: boolean }>;
  /**
   * Retains an existing object at least until `retention.until` (packs reused by a new snapshot).
   * Never shortens an existing retention; fails with 'not-found' for a missing key.
   */
  extendRetention?(key: string, retention: Retention): Promise<void>;
  /** The object's current Object Lock retention, if any (prune asks before it deletes). */
  retention?(key: string): Promise<Retention | undefined>;
}

/** Collects a listing; for prefixes known to be small (keys/, snapshots/). */
export async function listAll(storage: Storage, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of storage.list(prefix)) out.push(info);
  return out;
}
