/**
 * A snapshot (or some of its paths) as a tar archive, streamed: so a restore can be piped
 * to another host (`coffre restore latest --tar - | ssh host tar -x -C /srv`). The archive
 * holds the paths as a restore to disk recreates them (`srv/data/a.txt`), directories
 * before their contents, with modes, owners, symlinks and nanosecond mtimes (POSIX pax
 * `mtime` records; GNU tar and bsdtar read them).
 *
 * Files are written one by one, blob by blob, with a bounded read-ahead of pack ranges
 * (blob-stream.ts), and the snapshot is walked as it is written, a batch of files at a
 * time: memory depends neither on file sizes nor on their number. A file whose content is not in
 * the index is left out and reported before the archive reaches it. Damaged data found
 * mid-file cannot be left out any more (its header is written): the archive is then
 * abandoned unfinished, so that extracting it fails rather than yielding a wrong file, and
 * the error names the file and the damaged object.
 * @module
 */
import type { Writable } from 'node:stream';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { IntegrityError } from '../domain/errors.js';
import type { Repository } from '../repository/repository.js';
import type { TreeNode } from '../repository/tree.js';
import { splitResolvable, streamFileBlobs, writeRespectingBackpressure, type FileBlob } from './blob-stream.js';
import { inBatches, type ItemRuns, type PlannedFile, type PlannedItem } from './plan.js';
import type { RestoreFailure } from './restorer.js';

export interface TarOptions {
  /** Pack ranges fetched ahead of the writer (default 4). */
  readonly readAhead?: number;
  /** End `out` when done (not for process.stdout). Default true. */
  readonly end?: boolean;
  readonly events?: { itemFailed?(path: string, reason: string): void };
  /** Files per batch (default TAR_BATCH_FILES; tests set a small one). */
  readonly batchFiles?: number;
}

export interface TarResult {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  /** file content bytes written */
  readonly bytes: number;
  /** bytes written to `out`, headers and padding included */
  readonly archiveBytes: number;
  /** files left out (their content is not in the index) */
  readonly failures: readonly RestoreFailure[];
  readonly durationMs: number;
}

const TYPE_BITS = { file: 0o100000, dir: 0o040000, symlink: 0o120000 } as const;
const PACK_BUFFER = 1024 * 1024;
/** The largest id a ustar header field holds (7 octal digits); larger ones go in pax records. */
const MAX_USTAR_ID = 0o777777;

function header(item: PlannedItem): Partial<Header> & { name: string } {
  const n: TreeNode = item.node;
  const ns = BigInt(n.mtimeNs);
  const frac = ns % 1_000_000_000n;
  const pax: Record<string, string> = {};
  if (frac !== 0n) pax.mtime = `${ns / 1_000_000_000n}.${frac.toString().padStart(9, '0')}`;
  const bigIds = n.uid > MAX_USTAR_ID || n.gid > MAX_USTAR_ID;
  if (bigIds) Object.assign(pax, { uid: String(n.uid), gid: String(n.gid) });
  const name = item.snapshotPath.slice(1) + (n.type === 'dir' ? '/' : '');
  return {
    name,
    // tar-stream replaces a mode of 0 by a default: the type bits keep it non-zero (it stores mode & 0o7777)
    mode: TYPE_BITS[n.type] | n.mode,
    uid: bigIds ? 0 : n.uid,
    gid: bigIds ? 0 : n.gid,
    mtime: new Date(Number(ns / 1_000_000n)),
    type: n.type === 'dir' ? 'directory' : n.type === 'symlink' ? 'symlink' : 'file',
    size: n.type === 'file' ? (n.size ?? 0) : 0,
    ...(n.type === 'symlink' ? { linkname: n.target ?? '' } : {}),
    ...(Object.keys(pax).length ? { pax } : {}),
  };
}

/**
 * Files whose entries are prepared together: their content is checked against the index
 * before the first of their entries is written, and fetched with one read-ahead. The walk is
 * consumed a batch at a time, so the archive of a large snapshot holds a batch, not the
 * snapshot (as a restore to disk does, restorer.ts).
 */
const TAR_BATCH_FILES = 4096;

/**
 * Writes items to `out` as a tar archive, in the order given: a snapshot's walk (plan.ts
 * walkItems, in runs), or a plan's items as one run.
 */
export async function writeTar(repo: Repository, runs: ItemRuns, out: Writable, opts: TarOptions = {}): Promise<TarResult> {
  const started = Date.now();
  const failures: RestoreFailure[] = [];
  // A larger buffer than streamx's 16 KiB default: fewer round trips per small file.
  const pack = tarPack({ highWaterMark: PACK_BUFFER });
  pack.on('error', () => undefined); // reported by the pump and the entries
  let archiveBytes = 0;
  const pump = pumpTo(pack, out, opts.end ?? true, (n) => (archiveBytes += n));
  pump.catch(() => undefined); // awaited below, after the producer

  const counts = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  try {
    for await (const items of inBatches(runs, Math.max(1, opts.batchFiles ?? TAR_BATCH_FILES))) await writeBatch(repo, pack, items, counts, failures, opts);
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    await pump.catch(() => undefined);
    throw e;
  }
  await pump;
  return { ...counts, archiveBytes, failures, durationMs: Date.now() - started };
}

async function writeBatch(
  repo: Repository,
  pack: Pack,
  items: readonly PlannedItem[],
  counts: { files: number; dirs: number; symlinks: number; bytes: number },
  failures: RestoreFailure[],
  opts: TarOptions,
): Promise<void> {
  const { ok, unknown } = splitResolvable(repo, items.filter((i) => i.node.type === 'file'));
  for (const u of unknown) {
    failures.push({ path: u.file.snapshotPath, reason: u.message.slice(u.file.snapshotPath.length + 2), object: 'index' });
    opts.events?.itemFailed?.(u.file.snapshotPath, u.message);
  }
  const leftOut = new Set<PlannedFile>(unknown.map((u) => u.file));
  // A file whose pieces do not add up to its size would make a corrupt entry: leave it out too.
  for (const f of ok) {
    const sum = (f.node.content ?? []).reduce((n, id) => n + repo.index.lookup(id)!.rawLength, 0);
    if (sum !== (f.node.size ?? 0)) {
      leftOut.add(f);
      failures.push({ path: f.snapshotPath, reason: `its pieces hold ${sum} bytes, the snapshot says ${f.node.size ?? 0}` });
      opts.events?.itemFailed?.(f.snapshotPath, 'size does not match its content');
    }
  }

  const blobs = streamFileBlobs(repo, ok.filter((f) => !leftOut.has(f)), { readAhead: opts.readAhead });
  try {
    for (const item of items) {
      const t = item.node.type;
      if (t === 'file' && leftOut.has(item)) continue;
      if (t !== 'file') {
        await addEntry(pack, header(item), async () => undefined);
        if (t === 'dir') counts.dirs++;
        else counts.symlinks++;
        continue;
      }
      await addEntry(pack, header(item), async (sink) => {
        for (let i = 0; i < (item.node.content?.length ?? 0); i++) {
          let next: IteratorResult<FileBlob>;
          try {
            next = await blobs.next();
          } catch (e) {
            if (e instanceof IntegrityError) {
              throw new IntegrityError(e.objectKey, `tar archive abandoned at ${item.snapshotPath}: ${e.message}`, { cause: e });
            }
            throw e;
          }
          if (next.done || next.value.file !== item) throw new Error(`internal: blob stream out of step at ${item.snapshotPath}`);
          counts.bytes += next.value.data.length;
          if (!sink.write(next.value.data)) await drained(sink, pack);
        }
      });
      counts.files++;
    }
  } finally {
    await blobs.return(undefined); // reads still in flight end before the caller moves on
  }
}

/** Adds one entry, lets `body` write its content, and waits until tar-stream has taken it. */
function addEntry(pack: Pack, h: Partial<Header> & { name: string }, body: (sink: Writable) => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // tar-stream's entries are streamx Writables: write/end/drain behave as node's
    const sink = pack.entry(h, (err) => (err ? reject(err) : resolve())) as unknown as Writable;
    sink.on('error', () => undefined); // reported through the callback above
    body(sink).then(
      () => sink.end(),
      (e: unknown) => reject(e),
    );
  });
}

function drained(sink: Writable, pack: Pack): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      sink.off('drain', done);
      pack.off('error', fail);
      pack.off('close', done);
      resolve();
    };
    const fail = (e: Error) => {
      sink.off('drain', done);
      pack.off('close', done);
      reject(e);
    };
    sink.on('drain', done);
    pack.once('error', fail);
    pack.once('close', done);
  });
}

/** Copies the archive to `out`, honouring its backpressure; `out` is ended only when asked. */
async function pumpTo(pack: Pack, out: Writable, end: boolean, counted: (n: number) => void): Promise<void> {
  let failed: Error | undefined;
  const onError = (e: Error) => {
    failed = e;
    pack.destroy(e);
  };
  out.on('error', onError);
  try {
    let corked = false;
    for await (const data of pack) {
      const chunk = data as Buffer;
      if (failed) throw failed;
      counted(chunk.length);
      // Headers, contents and padding come as separate small chunks: corked, the chunks
      // that arrive in one tick leave in one writev instead of one write each.
      if (!corked) {
        corked = true;
        out.cork();
        process.nextTick(() => {
          corked = false;
          out.uncork();
        });
      }
      await writeRespectingBackpressure(out, chunk);
    }
    if (failed) throw failed;
    if (end) {
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(() => resolve());
      });
    }
  } finally {
    out.off('error', onError);
  }
}
