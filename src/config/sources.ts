/**
 * The agent's sources as one backup: every source path in one snapshot, and each source's
 * own exclude/include globs turned into absolute patterns scoped to that source, so that
 * `*.tmp` under one source does not leave out `*.tmp` files of another.
 *
 * As in .gitignore: a source glob without "/" (a trailing one aside: `cache/`) matches names
 * anywhere below the source; a glob with "/" is a path from the source root (`/cache` is
 * only `<source>/cache`, `logs/*.gz` matches `<source>/logs/x.gz`).
 *
 * The watcher and the rescan use the same filter as the backup, so that they never mark
 * dirty what the backup would leave out.
 * @module
 */
import * as path from 'node:path';
import { escapeGlob, globMatcher, type PathMatcher } from '../archiver/globs.js';

export interface SourceSpec {
  readonly path: string;
  readonly exclude?: readonly string[];
  readonly include?: readonly string[];
}

export interface BackupSelection {
  /** absolute source paths, sorted */
  readonly paths: readonly string[];
  /** absolute globs for the archiver's `exclude` */
  readonly exclude: readonly string[];
  /** absolute globs for the archiver's `include`; undefined when no source restricts */
  readonly include: readonly string[] | undefined;
}

export function backupSelection(sources: readonly SourceSpec[]): BackupSelection {
  const specs = sources.map((s) => ({ ...s, path: path.resolve(s.path) })).sort((a, b) => (a.path < b.path ? -1 : 1));
  const exclude = specs.flatMap((s) => (s.exclude ?? []).map((g) => scopedGlob(s.path, g)));
  const restricts = specs.some((s) => (s.include ?? []).length > 0);
  const include = restricts
    ? specs.flatMap((s) => (s.include?.length ? s.include.map((g) => scopedGlob(s.path, g)) : [escapeGlob(s.path), `${escapeGlob(s.path)}/**`]))
    : undefined;
  return { paths: specs.map((s) => s.path), exclude, include };
}

/** A source glob as an absolute pattern below the source root. */
export function scopedGlob(root: string, glob: string): string {
  const base = escapeGlob(root === '/' ? '' : root);
  const g = glob.length > 1 ? glob.replace(/\/+$/, '') : glob;
  if (!g.includes('/')) return `${base}/**/${g}`;
  return g.startsWith('/') ? `${base}${g}` : `${base}/${g}`;
}

/** What the backup would take, for the watcher and the rescan. */
export class SourceFilter {
  private readonly excluded: PathMatcher | undefined;
  private readonly included: PathMatcher | undefined;

  constructor(readonly selection: BackupSelection) {
    this.excluded = globMatcher(selection.exclude);
    this.included = selection.include && globMatcher(selection.include);
  }

  /** The source root `p` is at or under, if any. */
  rootOf(p: string): string | undefined {
    return this.selection.paths.find((r) => p === r || p.startsWith(r === '/' ? '/' : `${r}/`));
  }

  /** True if `p` or one of its directories below its source root is excluded. */
  isExcluded(p: string): boolean {
    const root = this.rootOf(p);
    if (root === undefined) return true;
    if (!this.excluded) return false;
    for (let q = p; q.length > root.length; q = path.dirname(q)) if (this.excluded(q)) return true;
    return false;
  }

  /** Would the backup save this path? Directories: unless excluded. Other items: also if included. */
  takes(p: string, isDirectory: boolean): boolean {
    if (this.isExcluded(p)) return false;
    return isDirectory || !this.included || this.included(p);
  }
}
