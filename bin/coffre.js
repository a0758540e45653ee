#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// Thin launcher: the compiled CLI lives in dist/bundle/ (built by `npm ci` through `prepare`:
// tsc, then scripts/bundle.mjs, which bundles the compiled modules into a few files).
// Top-level await on purpose: if the event loop ever empties while a command is still
// pending, Node exits with code 13 instead of a silent 0.
// `coffre status` has an entry of its own: monitoring runs it often, and it needs little.
// A young generation of 1 MiB semi-spaces instead of up to 16 MiB: the threads allocate little
// JavaScript garbage (file data lives in reused native buffers), and the larger nurseries, one
// per thread, were about 20 MiB of a backup's peak memory. The main thread's heap is sized when
// node starts, so the flag is on the first line (and in the installed `coffre` wrapper and the
// service unit, scripts/install-service.sh); set here too, it still reaches the worker threads
// when this file is run as `node bin/coffre.js`. Set before any thread starts. (A backup also
// bounds the old generation's growth while it runs: src/util/tight-heap.ts.)
// One V8 background thread instead of four: coffre's own worker threads already take the cores,
// and V8's pool (concurrent marking, sweeping, compilation for all three isolates) kept its
// threads' malloc arenas: 3 MiB less at the peak of a backup and of a restore, in the same
// time (docs/benchmarks.md). It exists only as a startup flag.
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--max-semi-space-size=1');
const fast = await import('../dist/bundle/fast-status.js');
if (fast.isStatusCall(process.argv)) {
  await fast.statusMain(process.argv);
} else {
  const { main } = await import('../dist/bundle/main.js');
  await main(process.argv);
}
