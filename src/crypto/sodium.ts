/**
 * sodium-native, loaded with require(): it is a CommonJS package, and importing it as ES
 * module costs 70-130 ms here (the ESM loader parses its sources for named exports and
 * resolves its helper packages one by one) against about 40 ms for require(). Every
 * command pays this before its key derivation can start.
 *
 * And without its addon resolver: the package's binding.js finds the prebuilt binary
 * through require-addon and the five packages it loads, 20-35 ms of each thread's start,
 * paid by the main thread and again by every worker (a quarter of a worker's start-up
 * profile, against 3 ms for loading the binary itself). The binary for this platform is
 * put in require's cache under binding.js's name, where the package's index.js finds it.
 * Where there is none (another platform, a build from source), the package loads as it
 * always does.
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import * as path from 'node:path';
import type * as Sodium from 'sodium-native';

const require = createRequire(import.meta.url);

function preloadPrebuiltBinding(): void {
  const bindingJs = require.resolve('sodium-native/binding.js');
  if (require.cache[bindingJs]) return;
  const prebuilt = path.join(path.dirname(bindingJs), 'prebuilds', `${process.platform}-${process.arch}`, 'sodium-native.node');
  if (!existsSync(prebuilt)) return;
  const m = new Module(bindingJs);
  m.filename = bindingJs;
  m.exports = require(prebuilt);
  m.loaded = true;
  require.cache[bindingJs] = m;
}

preloadPrebuiltBinding();
export const sodium = require('sodium-native') as typeof Sodium;
