#!/usr/bin/env node
// The least memory any Node.js program can peak at while it derives a key with libsodium's
// Argon2id at a given cost: node itself, sodium-native, and one crypto_pwhash run, nothing
// else. bench-memory.sh runs it under GNU time with the launcher's node flags and prints it
// beside the targets (docs/benchmarks.md, "Memory checks"): a target below it cannot be met
// by a coffre command, whatever coffre does, since every command opens a key file first.
//
//   node scripts/bench/kdf-floor.cjs MEMORY_MIB PASSES
//
// CommonJS on purpose: it loads sodium-native the way coffre does (require), and nothing more.
'use strict';
const sodium = require('sodium-native');

const [mib, passes] = process.argv.slice(2).map(Number);
if (!Number.isInteger(mib) || mib < 1 || !Number.isInteger(passes) || passes < 1) {
  process.stderr.write('usage: kdf-floor.cjs MEMORY_MIB PASSES\n');
  process.exit(2);
}
const out = Buffer.alloc(32);
const salt = Buffer.alloc(sodium.crypto_pwhash_SALTBYTES);
sodium.crypto_pwhash_async(out, Buffer.from('floor'), salt, passes, mib * 1024 * 1024, sodium.crypto_pwhash_ALG_ARGON2ID13).then(
  () => undefined,
  (e) => {
    process.stderr.write(`kdf-floor: ${e.message}\n`);
    process.exit(1);
  },
);
