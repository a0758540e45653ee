#!/usr/bin/env node
// The second half of `npm run build`: bundles each worker thread's entry point, compiled by
// tsc into dist/workers/, with the modules it imports into one file beside it
// (codec-worker.bundle.js). Every worker thread loads its script when it starts, once per
// command and thread, and node's ES module loader resolved, read and linked the entry's 24
// modules one by one: a thread was ready in 70 ms with them against 50 ms with the bundle
// (two threads at once: 100 against 68 ms). Packages (sodium-native, zstd-napi) and node's
// own modules stay imports: they are loaded from node_modules as before.
// src/workers/pool.ts (workerScript) prefers the bundle and falls back to the plain file.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const WORKER_ENTRIES = ['codec-worker'];

const dist = fileURLToPath(new URL('../dist/workers/', import.meta.url));

for (const name of WORKER_ENTRIES) {
  await build({
    entryPoints: [`${dist}${name}.js`],
    outfile: `${dist}${name}.bundle.js`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // maps back through tsc's own maps to src/*.ts, as the plain files do
    sourcemap: true,
    logLevel: 'warning',
  });
}
