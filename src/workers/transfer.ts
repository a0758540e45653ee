/**
 * Moving buffers between threads without surprises.
 * @module
 */
import type { TransferListItem } from 'node:worker_threads';

/**
 * A buffer ready to cross to another thread, and what to transfer. postMessage clones a
 * view's whole underlying ArrayBuffer (a 16 MiB pack range for a 2 KiB blob, or Node's
 * shared 8 KiB pool, which transferring would even detach), so a view that does not own its
 * memory is first copied into one that does; owned buffers move without any copy.
 */
export function detached(buf: Uint8Array): { buf: Uint8Array; transfer: TransferListItem[] } {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) {
    return { buf, transfer: [buf.buffer] };
  }
  const own = new Uint8Array(buf.byteLength);
  own.set(buf);
  return { buf: own, transfer: [own.buffer] };
}

/**
 * For a buffer this thread just made and holds no other view of (a seal or open result):
 * moves its memory without a copy unless it is a slice of Node's shared pool, whose
 * ArrayBuffer is exactly Buffer.poolSize bytes long. The view keeps its offset and length
 * on the other side.
 */
export function handOver(buf: Uint8Array): { buf: Uint8Array; transfer: TransferListItem[] } {
  if (buf.buffer instanceof ArrayBuffer && buf.buffer.byteLength !== Buffer.poolSize) return { buf, transfer: [buf.buffer] };
  return detached(buf);
}
