/**
 * The content of files, in file order, as a stream of blobs: what tar output and `dump`
 * need, where a restore to disk can write blobs in any order. Consecutive blobs that sit
 * close together in one pack (the usual case: a backup writes a file's chunks, and the
 * files of a directory, one after the other) are fetched in one ranged read, and a bounded
 * number of such reads run ahead of the consumer, so memory stays flat whatever the size
 * of the files: at most `readAhead` units of at most UNIT_BYTES sealed and UNIT_BYTES plain.
 * @module
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { describeError, IntegrityError } from '../domain/errors.js';
import type { BlobId } from '../domain/ids.js';
import type { IndexedBlob } from '../repository/blob-index.js';
import { packKey } from '../repository/layout.js';
import type { Repository } from '../repository/repository.js';
import type { PlannedFile } from './plan.js';

/** Blobs closer than this in a pack are fetched in one read. */
const GAP = 256 * 1024;
/** A fetch unit spans at most this many bytes of a pack, and holds at most this many plain bytes. */
const UNIT_BYTES = 16 * 1024 * 1024;

interface Unit {
  readonly packId: IndexedBlob['packId'];
  readonly start: number;
  end: number;
  rawBytes: number;
  readonly blobs: { readonly file: PlannedFile; readonly blob: IndexedBlob }[];
}

export interface FileBlob {
  readonly file: PlannedFile;
  readonly data: Buffer;
}

/** A file whose content cannot be delivered: a blob missing from the index. */
export class UnknownBlobError extends IntegrityError {
  constructor(
    readonly file: PlannedFile,
    readonly blobId: BlobId,
  ) {
    super('index', `${file.snapshotPath}: blob ${blobId.slice(0, 8)} is not in the repository index`);
  }
}

/** The files whose content is fully indexed, and the others with their first unknown blob. */
export function splitResolvable(repo: Repository, files: readonly PlannedFile[]): { ok: PlannedFile[]; unknown: UnknownBlobError[] } {
  const ok: PlannedFile[] = [];
  const unknown: UnknownBlobError[] = [];
  for (const f of files) {
    const missing = (f.node.content ?? []).find((id) => !repo.index.lookup(id));
    if (missing) unknown.push(new UnknownBlobError(f, missing));
    else ok.push(f);
  }
  return { ok, unknown };
}

function* units(repo: Repository, files: readonly PlannedFile[]): Generator<Unit> {
  let u: Unit | undefined;
  for (const file of files) {
    for (const id of file.node.content ?? []) {
      const blob = repo.index.lookup(id);
      if (!blob) throw new UnknownBlobError(file, id);
      const joins =
        u !== undefined &&
        u.packId === blob.packId &&
        blob.offset >= u.end &&
        blob.offset - u.end <= GAP &&
        blob.offset + blob.length - u.start <= UNIT_BYTES &&
        u.rawBytes + blob.rawLength <= UNIT_BYTES;
      if (joins) {
        u!.end = blob.offset + blob.length;
        u!.rawBytes += blob.rawLength;
        u!.blobs.push({ file, blob });
      } else {
        if (u) yield u;
        u = { packId: blob.packId, start: blob.offset, end: blob.offset + blob.length, rawBytes: blob.rawLength, blobs: [{ file, blob }] };
      }
    }
  }
  if (u) yield u;
}

async function fetchUnit(repo: Repository, u: Unit): Promise<FileBlob[]> {
  const key = packKey(u.packId);
  const whole = !repo.storage.capabilities.rangeReads;
  let bytes: Buffer;
  try {
    bytes = whole ? await repo.storage.get(key) : await repo.storage.getRange(key, u.start, u.end - u.start);
  } catch (e) {
    const kind = (e as { kind?: string }).kind;
    if (kind === 'not-found' || kind === 'invalid-range') throw new IntegrityError(key, `${key}: ${describeError(e)}`, { cause: e });
    throw e;
  }
  const base = whole ? 0 : u.start;
  return Promise.all(
    u.blobs.map(async ({ file, blob }) => {
      const sealed = bytes.subarray(blob.offset - base, blob.offset - base + blob.length);
      if (sealed.length !== blob.length) throw new IntegrityError(key, `${key}: truncated: blob ${blob.id.slice(0, 8)} lies past its end`);
      return { file, data: await repo.openBlob(blob, sealed) };
    }),
  );
}

/**
 * Yields every blob of `files`, in order, each authenticated. Throws, in order, an
 * UnknownBlobError for a blob missing from the index (callers that must not start a file
 * they cannot finish filter with `splitResolvable` first) and an IntegrityError naming the
 * object for damaged data.
 */
export async function* streamFileBlobs(repo: Repository, files: readonly PlannedFile[], opts: { readAhead?: number } = {}): AsyncGenerator<FileBlob> {
  const readAhead = Math.max(1, opts.readAhead ?? 4);
  const source = units(repo, files);
  const queue: Promise<FileBlob[]>[] = [];
  const fill = () => {
    while (queue.length < readAhead) {
      let p: Promise<FileBlob[]>;
      try {
        const next = source.next();
        if (next.done) return;
        p = fetchUnit(repo, next.value);
      } catch (e) {
        p = Promise.reject(e); // an unknown blob: surfaced in order, after what precedes it
      }
      p.catch(() => undefined); // surfaced when its turn comes; never an unhandled rejection meanwhile
      queue.push(p);
    }
  };
  try {
    for (;;) {
      fill();
      const p = queue.shift();
      if (!p) return;
      for (const b of await p) yield b;
    }
  } finally {
    // Stopped early (damage, or the consumer gave up): let the reads in flight finish, so
    // that nothing still talks to the storage once the caller closes it.
    await Promise.allSettled(queue);
  }
}

/** Writes, then waits for 'drain' when the stream asks to (rejects if it fails meanwhile). */
export async function writeRespectingBackpressure(out: Writable, data: Uint8Array): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}
