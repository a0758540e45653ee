/**
 * Keeping file names out of what status says. Its lines travel: the Nagios line is shown on
 * the monitoring server's web page, the webhook posts to a chat room, and file names below
 * the source roots can be patient names. Recorded errors are one-line messages that may
 * quote such a path ("cannot read /srv/identites/DUPONT Jean.csv: EACCES"), so every path
 * in them is checked:
 * - a source root itself, or anything under the state directory or a local repository
 *   (object names there are random hex): kept;
 * - anything below a source root: `<root>/…`;
 * - any other absolute path: `<path>`.
 * An unquoted path may hold spaces, so an unknown one is cut up to the next separator
 * (": ", a quote, a comma, a bracket), erring towards saying too little.
 * @module
 */

export interface SafePaths {
  /** paths that may be named, but nothing below them (source roots) */
  readonly roots: readonly string[];
  /** paths under which anything may be named (state directory, local repository) */
  readonly containers: readonly string[];
}

const under = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

function replacement(p: string, safe: SafePaths): string | undefined {
  if (safe.roots.includes(p) || safe.containers.some((c) => under(p, c))) return undefined;
  const root = safe.roots.filter((r) => under(p, r)).sort((a, b) => b.length - a.length)[0];
  return root === undefined ? '<path>' : `${root === '/' ? '' : root}/…`;
}

/** A path starts with "/" not preceded by a word character, ":" or "/" (so URLs stay). */
const QUOTED = /(['"`])(\/[^'"`]*)\1/g;
const BARE = /(?<![\w:/.~-])\/[^\s'"`,;()[\]]*/g;
/** Where an unknown unquoted path surely ends. */
const STOP = /: |['"`,;()[\]]|$/;

export function redact(message: string, safe: SafePaths): string {
  const quoted = message.replace(QUOTED, (all, q: string, p: string) => {
    const r = replacement(p.replace(/\/+$/, '') || '/', safe);
    return r === undefined ? all : `${q}${r}${q}`;
  });
  let out = '';
  let at = 0;
  for (const m of quoted.matchAll(BARE)) {
    if (m.index < at) continue; // swallowed by the previous cut
    const token = m[0].replace(/[.:]+$/, '');
    const r = replacement(token.replace(/\/+$/, '') || '/', safe);
    if (r === undefined) continue;
    const rest = quoted.slice(m.index);
    const end = m.index + (rest.slice(1).search(STOP) + 1);
    out += quoted.slice(at, m.index) + r;
    at = Math.max(end, m.index + token.length);
  }
  return out + quoted.slice(at);
}
