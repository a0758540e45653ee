/**
 * Verifying audit entries: each chain must run 1, 2, 3… with every entry naming its
 * predecessor's hash and carrying a valid MAC; the local log must reach its head record;
 * and the local log and the repository copy must agree on every entry both hold (the
 * repository copy lives under Object Lock / no-delete credentials, so it is the reference
 * when the local log was cut short).
 * Problems are one line each and name the sequence number, never the content.
 * @module
 */
import { entryHash, GENESIS, macValid, type AuditEntry } from './entry.js';
import type { Head, LogLine } from './log.js';

/** Problems of one chain, its entries given in the order found (local: file order; repository: any). */
export function verifyChain(entries: readonly AuditEntry[], macKey: Uint8Array, where: string): string[] {
  const problems: string[] = [];
  for (const e of entries) if (!macValid(e, macKey)) problems.push(`${where}: entry ${e.seq} was altered (its MAC does not verify)`);
  for (let k = 1; k < entries.length; k++) {
    if (entries[k]!.seq < entries[k - 1]!.seq) problems.push(`${where}: entry ${entries[k]!.seq} is out of order (after entry ${entries[k - 1]!.seq})`);
  }
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  let prev: AuditEntry | undefined;
  for (const e of sorted) {
    const expectSeq = (prev?.seq ?? 0) + 1;
    if (prev && e.seq === prev.seq) problems.push(`${where}: entry ${e.seq} appears twice`);
    else if (e.seq > expectSeq) problems.push(`${where}: ${e.seq - expectSeq === 1 ? `entry ${expectSeq} is` : `entries ${expectSeq}..${e.seq - 1} are`} missing (removed?)`);
    else if (e.prev !== (prev ? entryHash(prev) : GENESIS)) {
      problems.push(`${where}: entry ${e.seq} does not follow entry ${prev?.seq ?? 0} (chain broken: removed, altered or reordered)`);
    }
    prev = e;
  }
  return problems;
}

/** The local log: readable lines, one chain, the chain itself, and its head. */
export function verifyLocal(lines: readonly LogLine[], head: Head | undefined, macKey: Uint8Array, where: string): string[] {
  const problems: string[] = [];
  const entries: AuditEntry[] = [];
  for (const l of lines) {
    if ('unreadable' in l) problems.push(`${where}: line ${l.line} is unreadable (${l.unreadable})`);
    else entries.push(l.entry);
  }
  const chains = new Set(entries.map((e) => e.chain));
  if (chains.size > 1) problems.push(`${where}: entries of ${chains.size} chains mixed in one log`);
  problems.push(...verifyChain(entries, macKey, where));
  const last = entries.at(-1);
  if (head) {
    if (!last || last.seq < head.seq) problems.push(`${where}: ends at entry ${last?.seq ?? 0}, but entry ${head.seq} was written (truncated)`);
    else if (last.seq === head.seq && entryHash(last) !== head.hash) problems.push(`${where}: the last entry ${last.seq} is not the one written`);
  } else if (last) problems.push(`${where}: the head record is missing`);
  return problems;
}

/** Local and repository copies of one chain: what both hold must be equal; what one lacks is said. */
export function compareCopies(local: readonly AuditEntry[], remote: readonly AuditEntry[], uploaded: number): string[] {
  const problems: string[] = [];
  const bySeq = new Map<number, AuditEntry[]>();
  for (const r of remote) if (!bySeq.get(r.seq)?.some((x) => x.mac === r.mac)) bySeq.set(r.seq, [...(bySeq.get(r.seq) ?? []), r]);
  for (const l of local) {
    const rs = bySeq.get(l.seq);
    if (!rs) {
      if (l.seq <= uploaded) problems.push(`repository copy: entry ${l.seq} is missing (it was uploaded: removed from the repository?)`);
      continue;
    }
    if (!rs.some((r) => r.mac === l.mac && entryHash(r) === entryHash(l))) problems.push(`entry ${l.seq} differs between the local log and the repository copy`);
  }
  const lastLocal = local.at(-1)?.seq ?? 0;
  const beyond = remote.filter((r) => r.seq > lastLocal).length;
  if (beyond) problems.push(`local log: ends at entry ${lastLocal}, but the repository copy has ${beyond} later entr${beyond === 1 ? 'y' : 'ies'} (truncated)`);
  return problems;
}
