/**
 * Reading a GetObject body into one Buffer, copying each socket chunk once, straight into a
 * buffer of the announced length. The SDK's `transformToByteArray()` collects the chunks and
 * concatenates them, and `Buffer.from()` of its result copies everything again: on a restore
 * or a `check --read-data` of a gigabyte, those two extra copies and the garbage they leave
 * were the largest cost of the S3 read path on the main thread.
 * @module
 */
import { StorageError } from '../../domain/errors.js';

/**
 * @param body the SDK's `Body` (a Node readable stream), or undefined for an empty answer
 * @param announced Content-Length, when the server sent one
 * @param target names the object in error messages
 * @param into a reused buffer to read into when it is large enough (the result is then a view of it)
 */
export async function readBody(body: unknown, announced: number | undefined, target: string, into?: Buffer): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  const chunks = body as AsyncIterable<Uint8Array>;
  if (announced === undefined) {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    return Buffer.concat(parts);
  }
  const out = into && into.length >= announced ? into.subarray(0, announced) : Buffer.allocUnsafe(announced);
  let filled = 0;
  for await (const chunk of chunks) {
    if (filled + chunk.length > announced) {
      throw new StorageError('transient', `${target}: response longer than its Content-Length (${announced} bytes)`);
    }
    out.set(chunk, filled);
    filled += chunk.length;
  }
  if (filled !== announced) throw truncated(target, filled, announced);
  return out;
}

/** The connection ended before the promised bytes: the object is fine, the transfer was not. */
export function truncated(target: string, got: number, expected: number): StorageError {
  return new StorageError('transient', `${target}: response cut short (${got} of ${expected} bytes)`);
}
