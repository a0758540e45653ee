/**
 * Entry point of a codec worker thread (see pool.ts and codec-tasks.ts).
 * @module
 */
import { workerData } from 'node:worker_threads';
import { codecHandler, type CodecWorkerData } from './codec-tasks.js';
import { serve } from './serve.js';

serve(codecHandler(workerData as CodecWorkerData));
