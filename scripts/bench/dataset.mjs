// Deterministic benchmark dataset for scripts/bench.sh.
//
//   node dataset.mjs ensure ROOT SCALE   generate ROOT (or reuse it if already generated with the same spec); prints JSON facts
//   node dataset.mjs apply  ROOT SCALE   mutation: rewrite 1 % of the small files, append 32 MiB to one large file
//   node dataset.mjs revert ROOT SCALE   undo the mutation (idempotent), so every tool sees the same data
//
// SCALE: small (about 310 MB), medium (about 1 GB, the S3 throughput measurement), full (2.70 GiB, the dataset of
// perf-baseline.md, byte-identical), smallfiles (20,000 small CSV files only). All content is seeded: two runs on two machines produce the same bytes.
// The manifest ROOT.manifest.json (next to ROOT, never inside it, so it is not backed up) marks a complete dataset.
import fs from 'node:fs';
import path from 'node:path';
import { prng, textRows, randomBytes } from './gen.mjs';

const MiB = 1 << 20;
const KiB = 1024;
const GENERATOR_VERSION = 1;

// large: L1 random; L2 = L1 with [shiftAt, shiftAt + 2 MiB) replaced by 3 MiB + 4099 B of new random data
// (a changed region in the middle plus a non-aligned shift of the tail); extra = more independent random files.
export const SPECS = {
  full: { smallFiles: 20000, perDir: 200, medium: 200, large: { size: 256 * MiB, shiftAt: 127 * MiB, extra: ['L3', 'L4'] }, appendTo: 'large/L3.bin' },
  medium: { smallFiles: 6000, perDir: 200, medium: 60, large: { size: 224 * MiB, shiftAt: 111 * MiB, extra: [] }, appendTo: 'large/L1.bin' },
  small: { smallFiles: 2000, perDir: 200, medium: 6, large: { size: 100 * MiB, shiftAt: 49 * MiB, extra: [] }, appendTo: 'large/L1.bin' },
  smallfiles: { smallFiles: 20000, perDir: 200, medium: 0, large: null, appendTo: null },
};
const APPEND_BYTES = 32 * MiB;

const pad = (n, w) => String(n).padStart(w, '0');
const smallRel = (i, perDir) => path.join('small', 'd' + pad(Math.floor(i / perDir), 3), 'f' + pad(i, 5) + '.csv');
function smallContent(i, variant) {
  const r = prng(1000003 + i);
  const size = 1 * KiB + Math.floor(r() * 63 * KiB); // 1..64 KiB
  return textRows(variant ? 5000000 + i : 10000000 + i, size);
}
const mutatedSmall = (spec) => { const a = []; for (let i = 0; i < spec.smallFiles; i += 100) a.push(i); return a; }; // 1 %

function generate(root, spec) {
  const t0 = Date.now();
  let text = 0, random = 0;
  const dirs = Math.ceil(spec.smallFiles / spec.perDir);
  for (let d = 0; d < dirs; d++) fs.mkdirSync(path.join(root, 'small', 'd' + pad(d, 3)), { recursive: true });
  for (let i = 0; i < spec.smallFiles; i++) { const b = smallContent(i, 0); fs.writeFileSync(path.join(root, smallRel(i, spec.perDir)), b); text += b.length; }
  if (spec.medium) {
    fs.mkdirSync(path.join(root, 'medium'), { recursive: true });
    for (let i = 0; i < spec.medium; i++) {
      const r = prng(2000003 + i);
      const size = 1 * MiB + Math.floor(r() * 9 * MiB); // 1..10 MiB
      const isText = i % 2 === 0;
      const b = isText ? textRows(20000000 + i, size) : randomBytes('m' + i, size);
      fs.writeFileSync(path.join(root, 'medium', 'm' + pad(i, 3) + (isText ? '.csv' : '.bin')), b);
      if (isText) text += b.length; else random += b.length;
    }
  }
  if (spec.large) {
    const { size, shiftAt, extra } = spec.large;
    fs.mkdirSync(path.join(root, 'large'), { recursive: true });
    const L1 = randomBytes('L1', size);
    fs.writeFileSync(path.join(root, 'large', 'L1.bin'), L1);
    const ins = randomBytes('L2ins', 3 * MiB + 4099);
    const L2 = Buffer.concat([L1.subarray(0, shiftAt), ins, L1.subarray(shiftAt + 2 * MiB)]);
    fs.writeFileSync(path.join(root, 'large', 'L2.bin'), L2);
    random += L1.length + L2.length;
    for (const n of extra) { const b = randomBytes(n, size); fs.writeFileSync(path.join(root, 'large', n + '.bin'), b); random += b.length; }
  }
  return { textBytes: text, randomBytes: random, generateSeconds: (Date.now() - t0) / 1000 };
}

function walk(root) {
  let files = 0, dirs = 0, bytes = 0;
  const stack = [root];
  while (stack.length) {
    const d = stack.pop();
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { dirs++; stack.push(p); } else if (e.isFile()) { files++; bytes += fs.statSync(p).size; } else files++;
    }
  }
  return { files, dirs, bytes };
}

function apply(root, spec) {
  fs.writeFileSync(root + '.mutated', 'mutation applied; run `dataset.mjs revert` or let bench.sh revert it\n');
  for (const i of mutatedSmall(spec)) fs.writeFileSync(path.join(root, smallRel(i, spec.perDir)), smallContent(i, 1));
  if (spec.appendTo) {
    const f = path.join(root, spec.appendTo);
    if (fs.statSync(f).size === spec.large.size) fs.appendFileSync(f, randomBytes('L3append', APPEND_BYTES));
  }
}

function revert(root, spec) {
  for (const i of mutatedSmall(spec)) fs.writeFileSync(path.join(root, smallRel(i, spec.perDir)), smallContent(i, 0));
  if (spec.appendTo) fs.truncateSync(path.join(root, spec.appendTo), spec.large.size);
  fs.rmSync(root + '.mutated', { force: true });
}

function ensure(root, scale, spec) {
  const manifestFile = root + '.manifest.json';
  const want = { generatorVersion: GENERATOR_VERSION, scale, spec };
  let m = null;
  try { m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')); } catch { m = null; }
  if (m && JSON.stringify({ generatorVersion: m.generatorVersion, scale: m.scale, spec: m.spec }) === JSON.stringify(want)) {
    try {
      if (fs.existsSync(root + '.mutated')) revert(root, spec); // a previous run stopped between apply and revert
      const w = walk(root);
      if (w.files === m.files && w.dirs === m.dirs && w.bytes === m.bytes) return { ...m, reused: true };
      process.stderr.write(`dataset: ${root} does not match its manifest (${w.files} files/${w.bytes} B, expected ${m.files}/${m.bytes}); regenerating\n`);
    } catch (e) {
      process.stderr.write(`dataset: ${root} is incomplete (${e.message}); regenerating\n`);
    }
  }
  fs.rmSync(manifestFile, { force: true });
  fs.rmSync(root + '.mutated', { force: true });
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  process.stderr.write(`dataset: generating ${scale} dataset in ${root} ...\n`);
  const g = generate(root, spec);
  const w = walk(root);
  const manifest = { ...want, ...w, ...g, mutation: { smallFilesRewritten: mutatedSmall(spec).length, appendTo: spec.appendTo, appendBytes: spec.appendTo ? APPEND_BYTES : 0 }, createdAt: new Date().toISOString() };
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 1) + '\n');
  return { ...manifest, reused: false };
}

const [cmd, rootArg, scale] = process.argv.slice(2);
const spec = SPECS[scale];
if (!['ensure', 'apply', 'revert'].includes(cmd) || !rootArg || !spec) {
  process.stderr.write(`usage: node dataset.mjs ensure|apply|revert ROOT ${Object.keys(SPECS).join('|')}\n`);
  process.exit(2);
}
const root = path.resolve(rootArg);
if (cmd === 'ensure') process.stdout.write(JSON.stringify(ensure(root, scale, spec)) + '\n');
else if (cmd === 'apply') apply(root, spec);
else revert(root, spec);
