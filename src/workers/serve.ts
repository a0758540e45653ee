/**
 * The worker-thread side of pool.ts: runs each task's handler, carries its asks and tells,
 * and sends back its result. Errors travel as plain data; an integrity failure keeps the
 * name of the damaged object.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { IntegrityError, StorageError } from '../domain/errors.js';
import type { FromWorker, TaskContext, TaskHandler, ToWorker } from './pool.js';

export function serve<Req, Res>(handler: TaskHandler<Req, Res>): void {
  const port = parentPort;
  if (!port) throw new Error('serve() must run in a worker thread');
  const waiting = new Map<string, (answer: unknown) => void>();
  let seq = 0;
  const send = (m: FromWorker, transfer: Parameters<typeof port.postMessage>[1] = []) => port.postMessage(m, transfer);

  port.on('message', (m: ToWorker) => {
    if (m.kind === 'answer') {
      const key = `${m.id}:${m.seq}`;
      waiting.get(key)?.(m.answer);
      waiting.delete(key);
      return;
    }
    const id = m.id;
    const ctx: TaskContext = {
      ask: (msg, transfer) =>
        new Promise((resolve) => {
          const s = ++seq;
          waiting.set(`${id}:${s}`, resolve);
          send({ id, kind: 'ask', seq: s, msg }, transfer);
        }),
      tell: (msg, transfer) => send({ id, kind: 'tell', msg }, transfer),
    };
    Promise.resolve()
      .then(() => handler(m.req as Req, ctx))
      .then(
        (out) => send({ id, kind: 'result', result: out.result }, out.transfer ?? []),
        (e: unknown) =>
          send({
            id,
            kind: 'error',
            error: e instanceof Error ? e.message : String(e),
            ...(e instanceof IntegrityError ? { objectKey: e.objectKey } : {}),
            // A storage failure (a pack file that cannot be written) stays one: it stops the backup.
            ...(e instanceof StorageError ? { storageKind: e.kind } : {}),
            // A file system error keeps its code (ENOENT: the file was deleted meanwhile…).
            ...(typeof (e as NodeJS.ErrnoException).code === 'string' ? { code: (e as NodeJS.ErrnoException).code } : {}),
          }),
      );
  });
}
