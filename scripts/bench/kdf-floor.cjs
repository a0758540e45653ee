#!/usr/bin/env node
// The least memory any Node.js program can peak at while it derives a key with libsodium's
// Argon2id at a given cost: node itself, sodium-native, and one crypto_pwhash run, nothing
// else. bench-memory.sh runs it under GNU time with the launcher's node flags and prints it
// beside the targets (docs/benchmarks.md, "Memory checks"): a target below it cannot be met
// by a coffre command, whatever coffre does, since every command opens a key file first.
//
//   node scripts/bench/kdf-floor.cjs COFFRE_INIT_KDF_FLAGS...
//
// It takes the key-derivation flags `coffre init` was given (scripts/bench/kdf-flags.sh):
// `--kdf-memory MIB --kdf-passes N`, or `--kdf PROFILE` (libsodium's own limits for that name,
// as src/crypto/kdf.ts uses them), and prints the cost it used: "MIB PASSES".
// CommonJS on purpose: it loads sodium-native the way coffre does (require), and nothing more.
'use strict';
const sodium = require('sodium-native');

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const usage = (why) => {
  process.stderr.write(`kdf-floor: ${why} (usage: kdf-floor.cjs --kdf-memory MIB --kdf-passes N | --kdf PROFILE)\n`);
  process.exit(2);
};
let memLimit;
let opsLimit;
const profile = flag('--kdf');
if (profile !== undefined) {
  const key = profile.toUpperCase();
  memLimit = sodium[`crypto_pwhash_MEMLIMIT_${key}`];
  opsLimit = sodium[`crypto_pwhash_OPSLIMIT_${key}`];
  if (memLimit === undefined || opsLimit === undefined) usage(`unknown profile "${profile}"`);
}
if (flag('--kdf-memory') !== undefined) memLimit = Number(flag('--kdf-memory')) * 1024 * 1024;
if (flag('--kdf-passes') !== undefined) opsLimit = Number(flag('--kdf-passes'));
if (!Number.isInteger(memLimit) || memLimit < 1 || !Number.isInteger(opsLimit) || opsLimit < 1) usage('no key-derivation cost given');

const out = Buffer.alloc(32);
const salt = Buffer.alloc(sodium.crypto_pwhash_SALTBYTES);
sodium.crypto_pwhash_async(out, Buffer.from('floor'), salt, opsLimit, memLimit, sodium.crypto_pwhash_ALG_ARGON2ID13).then(
  () => process.stdout.write(`${memLimit / 1024 / 1024} ${opsLimit}\n`),
  (e) => {
    process.stderr.write(`kdf-floor: ${e.message}\n`);
    process.exit(1);
  },
);
