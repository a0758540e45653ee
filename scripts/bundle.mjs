#!/usr/bin/env node
// The second half of `npm run build`: bundles what tsc compiled into dist/ so that a
// command and its worker threads load a few files instead of a hundred modules. node's ES
// module loader resolves, reads and links modules one by one, and every command pays for
// it, then every worker thread again (docs/benchmarks.md, "Issue 10, sixth round").
//
// - dist/bundle/: the command line's two entry points (main.js, and fast-status.js for
//   `coffre status`), which bin/coffre.js loads. Code split: what a command imports
//   lazily stays in chunks of its own, loaded only by the commands that need it. Chunks lie
//   beside the entries, so that code finds the worker script beside itself wherever it went.
// - codec-worker.bundle.js, the worker threads' script in one file, in dist/bundle/ for
//   the command line and in dist/workers/ for code run from dist/workers or src (tests):
//   src/workers/pool.ts (workerScript) looks beside the module that starts the threads.
//   One thread was ready in 70 ms with 24 modules, in 50 ms with the bundle.
//
// Packages (sodium-native, zstd-napi, better-sqlite3, the AWS SDK…) and node's own modules
// stay imports, loaded from node_modules as before.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Chunk names carry a hash of their content: the previous build's chunks would stay beside
// the new ones, unused.
rmSync(`${dist}bundle`, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // maps back through tsc's own maps to src/*.ts, as the plain files do
  sourcemap: true,
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: [`${dist}cli/main.js`, `${dist}cli/fast-status.js`],
  outdir: `${dist}bundle`,
  splitting: true,
});
for (const dir of ['bundle', 'workers']) {
  await build({ ...common, entryPoints: [`${dist}workers/codec-worker.js`], outfile: `${dist}${dir}/codec-worker.bundle.js` });
}
