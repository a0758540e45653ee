/**
 * What `--exclude` and the agent's exclude/include globs match. A glob without "/" matches
 * names, at any depth (`*.tmp`, `cache`); a glob with "/" matches whole absolute paths
 * (`/srv/data/**\/*.log`). Dot files are matched like any other.
 *
 * (picomatch's `basename` option applies to every pattern, so a single matcher over both
 * kinds never matches a pattern with a slash: the two kinds are compiled apart.)
 * @module
 */
import picomatch from 'picomatch';

export type PathMatcher = (absolutePath: string) => boolean;

/** A matcher for the patterns, or undefined when there are none. */
export function globMatcher(patterns: readonly string[]): PathMatcher | undefined {
  const names = patterns.filter((p) => !p.includes('/'));
  const paths = patterns.filter((p) => p.includes('/'));
  const byName = names.length ? picomatch(names, { dot: true, basename: true }) : undefined;
  const byPath = paths.length ? picomatch(paths, { dot: true }) : undefined;
  if (!byName && !byPath) return undefined;
  return (p) => (byName?.(p) ?? false) || (byPath?.(p) ?? false);
}

/** `s` with glob syntax escaped, to build a pattern from a literal path. */
export function escapeGlob(s: string): string {
  return s.replace(/[\\*?[\](){}!+@|]/g, (c) => `\\${c}`);
}
