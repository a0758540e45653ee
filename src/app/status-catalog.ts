/**
 * Finding a repository's catalog in a state directory without unlocking the repository.
 * Catalog files are named by repository id, which only the unlocked config reveals; so
 * writers record the repository's location in each catalog (repo-facts.ts), and status
 * opens the catalogs of the state directory read-only to find the one recorded for the
 * location asked about. With no location asked, a state directory holding one catalog
 * answers for it.
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CatalogReader, META_LOCATION } from '../catalog/reader.js';
import { describeError } from '../domain/errors.js';
import type { CatalogUnavailable } from '../status/inputs.js';

const CATALOG_NAME = /^[0-9a-f]{64}\.sqlite$/;

export type Located = { readonly reader: CatalogReader } | CatalogUnavailable;

/** `location` as describeLocation gives it, or null for "the only one there". */
export function locateCatalog(stateDir: string, location: string | null): Located {
  let names: string[];
  try {
    names = fs.readdirSync(stateDir).filter((n) => CATALOG_NAME.test(n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      return { available: false, fresh: true, reason: `no state directory ${stateDir}: no backup has run on this machine with it` };
    }
    return { available: false, fresh: false, reason: `cannot read the state directory ${stateDir}: ${describeError(e)}` };
  }
  const found: { reader: CatalogReader; location: string | undefined; mtime: number }[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const file = path.join(stateDir, name);
    try {
      const reader = CatalogReader.open(file);
      found.push({ reader, location: reader.meta(META_LOCATION), mtime: lastWrite(file) });
    } catch (e) {
      problems.push(`${name}: ${describeError(e)}`);
    }
  }
  const pick = location === null ? found : found.filter((f) => f.location === location);
  // The same location may have held two repositories (re-initialised): the one written last is current.
  pick.sort((a, b) => b.mtime - a.mtime);
  const chosen = location === null && pick.length > 1 ? undefined : pick[0];
  for (const f of found) if (f !== chosen) f.reader.close();
  if (chosen) return { reader: chosen.reader };

  const what = location ?? 'any repository';
  if (location === null && pick.length > 1) {
    return { available: false, fresh: false, reason: `${pick.length} catalogs in ${stateDir}: say which repository with --repo or --config` };
  }
  if (problems.length) return { available: false, fresh: false, reason: `no readable catalog of ${what} in ${stateDir} (${problems.join('; ')})` };
  if (found.some((f) => f.location === undefined)) {
    return { available: false, fresh: false, reason: `no catalog in ${stateDir} records ${what}; catalogs written before Coffre recorded locations learn it at the next backup` };
  }
  return { available: false, fresh: true, reason: `no catalog of ${what} in ${stateDir}: no backup of it has run on this machine yet` };
}

function lastWrite(file: string): number {
  let t = 0;
  for (const f of [file, `${file}-wal`]) t = Math.max(t, fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return t;
}
