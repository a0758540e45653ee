/**
 * One file of a snapshot, its bytes in order, to a stream (`coffre dump SNAPSHOT PATH`):
 * blob by blob, authenticated, with a bounded read-ahead, so a file of any size passes
 * through in flat memory.
 * @module
 */
import type { Writable } from 'node:stream';
import { IntegrityError } from '../domain/errors.js';
import type { Repository } from '../repository/repository.js';
import { splitResolvable, streamFileBlobs, writeRespectingBackpressure } from './blob-stream.js';
import type { PlannedFile } from './plan.js';

export async function writeFileContent(repo: Repository, file: PlannedFile, out: Writable, opts: { end?: boolean; readAhead?: number } = {}): Promise<number> {
  const { unknown } = splitResolvable(repo, [file]);
  if (unknown[0]) throw unknown[0];
  let bytes = 0;
  let failed: Error | undefined;
  const onError = (e: Error) => (failed = e);
  out.on('error', onError);
  try {
    for await (const { data } of streamFileBlobs(repo, [file], { readAhead: opts.readAhead })) {
      if (failed) throw failed;
      bytes += data.length;
      await writeRespectingBackpressure(out, data);
    }
    if (failed) throw failed;
    if (opts.end ?? true) await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  } catch (e) {
    if (e instanceof IntegrityError) {
      throw new IntegrityError(e.objectKey, `${file.snapshotPath}: output stopped after ${bytes} bytes: ${e.message}`, { cause: e });
    }
    throw e;
  } finally {
    out.off('error', onError);
  }
  return bytes;
}
