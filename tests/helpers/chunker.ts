/**
 * Driving a FastCdc the way a file's reads do: the data arrives in pieces, each call sees the
 * bytes so far and goes on from where the last piece ended.
 */
import type { FastCdc } from '../../src/chunker/fastcdc.js';

/** The cuts `cdc` finds when `data` arrives in pieces ending at `ends` (the last is data.length). */
export function streamedCuts(cdc: FastCdc, data: Uint8Array, ends: readonly number[]): number[] {
  cdc.reset();
  const cuts: number[] = [];
  let from = 0;
  for (const end of ends) {
    const view = data.subarray(0, end);
    for (let at = cdc.findCut(view, from); at >= 0; at = cdc.findCut(view, at)) cuts.push(at);
    from = end;
  }
  return cuts;
}
