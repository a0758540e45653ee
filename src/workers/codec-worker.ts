/**
 * Entry point of a codec worker thread (see pool.ts). Errors travel back as plain data;
 * an integrity failure keeps the name of the damaged object.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IntegrityError } from '../domain/errors.js';
import { codecHandler, type CodecRequest, type CodecWorkerData } from './codec-tasks.js';

const handle = codecHandler(workerData as CodecWorkerData);
const port = parentPort!;

port.on('message', ({ id, req }: { id: number; req: CodecRequest }) => {
  try {
    const { result, transfer } = handle(req);
    port.postMessage({ id, result }, transfer ?? []);
  } catch (e) {
    const objectKey = e instanceof IntegrityError ? e.objectKey : undefined;
    port.postMessage({ id, error: e instanceof Error ? e.message : String(e), objectKey });
  }
});
