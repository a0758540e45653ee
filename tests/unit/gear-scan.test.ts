/**
 * The chunker's hash loop runs in WebAssembly (src/chunker/gear-scan.wat). It must find the
 * same positions, and leave the same hash, as the loop's definition in JavaScript, for every
 * mask, on every offset and across the pieces the input is copied in; the committed bytes must
 * be what the .wat compiles to; and without WebAssembly (node --jitless) the JavaScript loop
 * must serve, with the same cuts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FastCdc, gearTable } from '../../src/chunker/fastcdc.js';
import { gearScanner, JsGearScanner } from '../../src/chunker/gear-scan.js';
import { GEAR_SCAN_WASM } from '../../src/chunker/gear-scan-wasm.js';
import { compileGearScan } from '../../scripts/build-gear-wasm.mjs';
import { streamedCuts } from '../helpers/chunker.js';

const MASKS = [0, -1, 1, (0xffffffff << 28) | 0, (0xffffffff << 20) | 0, (0xffffffff << 14) | 0, (0xffffffff << 4) | 0, 0x0f0f0000];

/** Every position the scanner stops at over buf[from, to), the hash carried; and the hash at the end. */
function stops(s: { scan(b: Uint8Array, f: number, t: number, h: number, m: number): number; readonly hash: number }, buf: Uint8Array, from: number, to: number, h0: number, mask: number) {
  const at: number[] = [];
  let h = h0;
  for (let p = from; p < to; ) {
    const x = s.scan(buf, p, to, h, mask);
    if (x < 0) return { at, hash: s.hash };
    at.push(x);
    h = 0x5bd1e995; // any hash to go on from: both are given the same
    p = x + 1;
  }
  return { at, hash: h };
}

describe('the gear hash loop in WebAssembly', () => {
  it('is what gear-scan.wat compiles to (run scripts/build-gear-wasm.mjs after editing it)', async () => {
    expect(await compileGearScan()).toBe(GEAR_SCAN_WASM);
  });

  it('stops where the JavaScript loop stops and carries the same hash, for every mask and offset', () => {
    const G = gearTable(randomBytes(32));
    const wasm = gearScanner(G);
    expect(wasm).not.toBeInstanceOf(JsGearScanner);
    const js = new JsGearScanner(G);
    // 300 KB: several of the module's 64 KiB pieces; offsets on and around their edges
    const buf = randomBytes(300_000);
    const bounds: [number, number][] = [[0, buf.length], [1, 65_536], [65_535, 65_537], [65_536, 131_073], [7, 7], [100, 101], [131_071, 299_999]];
    for (const mask of MASKS) {
      // masks of none or one bit stop at nearly every byte: on a narrower span
      const spans = mask === 0 || mask === 1 ? [[65_500, 65_600] as [number, number]] : bounds;
      for (const [from, to] of spans) {
        for (const h0 of [0, -1, 123_456_789]) {
          expect(stops(wasm, buf, from, to, h0, mask), `mask ${mask} [${from}, ${to}) from ${h0}`).toEqual(stops(js, buf, from, to, h0, mask));
        }
      }
    }
  });

  it('keeps one table per scanner: two repositories in one thread do not mix', () => {
    const [A, B] = [gearTable(Buffer.alloc(32, 1)), gearTable(Buffer.alloc(32, 2))];
    const buf = randomBytes(200_000);
    const mask = (0xffffffff << 20) | 0;
    const a = stops(gearScanner(A), buf, 0, buf.length, 0, mask);
    const b = stops(gearScanner(B), buf, 0, buf.length, 0, mask);
    expect(a).toEqual(stops(new JsGearScanner(A), buf, 0, buf.length, 0, mask));
    expect(b).toEqual(stops(new JsGearScanner(B), buf, 0, buf.length, 0, mask));
    expect(a).not.toEqual(b);
    expect(gearScanner(A)).toBe(gearScanner(A));
  });

  it('cuts a file where the JavaScript loop cuts it, with the real chunk sizes', () => {
    const G = gearTable(randomBytes(32));
    const sizes = { minSize: 512 * 1024, avgSize: 1024 * 1024, maxSize: 8 * 1024 * 1024 };
    const data = randomBytes(24 * 1024 * 1024);
    // reads of 1,000,003 bytes, as a file's would arrive
    const ends = Array.from({ length: Math.ceil(data.length / 1_000_003) }, (_, i) => Math.min(data.length, (i + 1) * 1_000_003));
    const cuts = (cdc: FastCdc) => streamedCuts(cdc, data, ends);
    const want = cuts(new FastCdc(G, sizes, new JsGearScanner(G)));
    expect(want.length).toBeGreaterThan(12);
    expect(cuts(new FastCdc(G, sizes))).toEqual(want);
  });

  it('falls back to the JavaScript loop without WebAssembly (node --jitless), with the same cuts', () => {
    const script = `
      const { gearScanner, JsGearScanner } = await import('./dist/chunker/gear-scan.js');
      const { gearTable } = await import('./dist/chunker/fastcdc.js');
      const G = gearTable(Buffer.alloc(32, 7));
      const s = gearScanner(G);
      const buf = Buffer.alloc(100000); for (let i = 0; i < buf.length; i++) buf[i] = Math.imul(i, -1640531535) >>> 24;
      const at = []; for (let p = 0; (p = s.scan(buf, p, buf.length, 0, ${(0xffffffff << 24) | 0})) >= 0; p++) at.push(p);
      console.log(JSON.stringify({ wasm: typeof WebAssembly, js: s instanceof JsGearScanner, at }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--jitless', '--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { wasm: string; js: boolean; at: number[] };
    expect(out.wasm).toBe('undefined');
    expect(out.js).toBe(true);
    const buf = Buffer.alloc(100_000);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.imul(i, -1640531535) >>> 24;
    const s = gearScanner(gearTable(Buffer.alloc(32, 7)));
    const want: number[] = [];
    for (let p = 0; (p = s.scan(buf, p, buf.length, 0, (0xffffffff << 24) | 0)) >= 0; p++) want.push(p);
    expect(want.length).toBeGreaterThan(0);
    expect(out.at).toEqual(want);
  });
});
