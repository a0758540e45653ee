/**
 * A tighter old generation while a backup walks its tree. About 40 MiB of objects are live
 * in a backup of 200,000 small files, but V8 let the main heap grow up to 4x what survived a
 * full collection before collecting again, to 160 MiB of garbage: with its growth bounded to
 * half, that backup peaks at 241 MiB instead of 341 (about 9 % slower there; no change on the
 * benchmark's dataset). Not for everything: a restore from S3, whose HTTP client makes much
 * garbage, took 2.5 s instead of 2.1 and 10 MiB more with the same bound (docs/benchmarks.md).
 *
 * V8 reads the flag at each collection, so it can be set and cleared while the process runs
 * (0 is V8's default: a growth factor it chooses). Nested runs (the agent's jobs) share it.
 * @module
 */
import { setFlagsFromString } from 'node:v8';

let holders = 0;

export async function withTightHeap<T>(fn: () => Promise<T>): Promise<T> {
  if (holders++ === 0) setFlagsFromString('--heap-growing-percent=50');
  try {
    return await fn();
  } finally {
    if (--holders === 0) setFlagsFromString('--heap-growing-percent=0');
  }
}
