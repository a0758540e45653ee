// Memory of prune's working set with millions of blobs (the issue: "memory stays bounded").
//
//   node scripts/bench/prune-workspace.mjs [BLOBS]      (default 2,000,000; needs `npm run build`)
//
// Fills a PruneWorkspace (dist/prune/workspace.js) with synthetic index content — packs of
// 16 blobs, as 16 MiB packs of 1 MiB chunks give — marks 80 % of the blobs used, then asks
// what prune asks: usage of every pack (streamed) and, for 1,000 packs, whether they hold a
// blob nothing else holds. Prints peak RSS and the times. Nothing touches a repository.
import { createHash } from 'node:crypto';
import { PruneWorkspace } from '../../dist/prune/workspace.js';

const BLOBS = Number(process.argv[2] ?? 2_000_000);
const PER_PACK = 16;
const id = (kind, n) => createHash('sha256').update(`${kind}${n}`).digest('hex');
let peak = 0;
const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
const timer = setInterval(sample, 50);

const ws = PruneWorkspace.open();
const t0 = Date.now();
const packs = BLOBS / PER_PACK;
const PACKS_PER_INDEX = 16;
for (let p = 0; p < packs; p += PACKS_PER_INDEX) {
  const group = [];
  for (let q = p; q < Math.min(packs, p + PACKS_PER_INDEX); q++) {
    const blobs = [];
    for (let b = 0; b < PER_PACK; b++) blobs.push({ type: 'data', id: id('b', q * PER_PACK + b), offset: b * 1_050_000, length: 1_050_000, rawLength: 1_048_576 });
    group.push({ packId: id('p', q), size: 16_900_000, blobs });
  }
  ws.addIndex(id('i', p), { supersedes: [], packs: group });
  for (const g of group) ws.addStored(g.packId, g.size);
}
ws.markSuperseded();
const tFill = Date.now() - t0;
// As references.ts does: one transaction per tree (here, per 100 blobs).
for (let n = 0; n < BLOBS; n += 100) ws.batch(() => { for (let k = n; k < Math.min(BLOBS, n + 100); k++) if (k % 5 !== 0) ws.markUsed(id('b', k)); });
const tUsed = Date.now() - t0 - tFill;
let unused = 0;
let scanned = 0;
for (const u of ws.packUsage()) {
  scanned++;
  if (u.unusedBytes / u.size >= 0.5) unused++;
}
const tScan = Date.now() - t0 - tFill - tUsed;
let needed = 0;
for (let q = 0; q < 1000; q++) if (ws.holdsNeededBlob(id('p', q))) needed++;
const tNeeded = Date.now() - t0 - tFill - tUsed - tScan;
sample();
clearInterval(timer);
ws.close();
console.log(
  JSON.stringify({ blobs: BLOBS, packs, scanned, repackable: unused, needed, peakRssMiB: Math.round(peak / 2 ** 20), ms: { fill: tFill, markUsed: tUsed, usageScan: tScan, holdsNeeded1000: tNeeded } }),
);
