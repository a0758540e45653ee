/**
 * Prune plan objects (`prune/<id>`, docs/FORMAT.md §11): what a prune marked for deletion,
 * and when. Deleting is two-phase and time-based: a plan names packs that no snapshot
 * referenced and index objects it superseded; a later prune deletes them only once the plan
 * is older than its grace period and only if they are still unreferenced then. The plan is
 * sealed like any envelope (type "prune-plan"), so the provider learns nothing from it.
 * @module
 */
import { FormatError } from '../domain/errors.js';
import { isHexId, type IndexId, type PackId } from '../domain/ids.js';

export interface PrunePlan {
  readonly version: 1;
  /** ISO 8601: when the candidates became invisible to new backups (the grace period counts from here) */
  readonly created: string;
  readonly host: string;
  /** packs to delete once due and still unreferenced, with their sizes */
  readonly packs: readonly { readonly id: PackId; readonly size: number }[];
  /** index objects to delete once due (superseded by ones that name every pack still in use) */
  readonly indexes: readonly IndexId[];
}

export function encodePrunePlan(p: PrunePlan): Buffer {
  return Buffer.from(JSON.stringify({ version: 1, created: p.created, host: p.host, packs: p.packs, indexes: p.indexes }), 'utf8');
}

export function decodePrunePlan(bytes: Uint8Array, key: string): PrunePlan {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new FormatError(`${key}: not a prune plan (invalid JSON)`);
  }
  const r = raw as Partial<PrunePlan> | null;
  const ok =
    r !== null &&
    typeof r === 'object' &&
    r.version === 1 &&
    typeof r.created === 'string' &&
    !Number.isNaN(Date.parse(r.created)) &&
    typeof r.host === 'string' &&
    Array.isArray(r.packs) &&
    r.packs.every((p) => p && isHexId(p.id) && Number.isInteger(p.size) && p.size >= 0) &&
    Array.isArray(r.indexes) &&
    r.indexes.every((i) => isHexId(i));
  if (!ok) throw new FormatError(`${key}: not a version 1 prune plan`);
  return { version: 1, created: r.created!, host: r.host!, packs: r.packs!, indexes: r.indexes! };
}
