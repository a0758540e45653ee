/**
 * Entry point of a codec worker thread (see pool.ts and codec-tasks.ts).
 * @module
 */
import { workerData } from 'node:worker_threads';
import { codecHandler, type CodecRequest, type CodecWorkerData } from './codec-tasks.js';
import { serve } from './serve.js';

const handler = codecHandler(workerData as CodecWorkerData);
// Test-only (tests/e2e/worker-failure.test.ts): COFFRE_TEST_WORKER_EXIT=OP ends the thread,
// as an out-of-memory kill would, when it is given a task OP. Unset, it is one lookup per thread.
const exitOn = process.env.COFFRE_TEST_WORKER_EXIT;
serve<CodecRequest, unknown>(exitOn ? (req, ctx) => (req.op === exitOn ? process.exit(70) : handler(req, ctx)) : handler);
