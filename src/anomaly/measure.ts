/**
 * Mass-change measures: how much of a directory tree changed from one snapshot to the next,
 * in the ways ransomware changes it. Pure: the file-level changes come from scan.ts, and
 * how well a content compressed is looked up by the caller.
 *
 * - modified: same path, other content;
 * - renamed: a path gone, and a new path that is it under another name — same content
 *   (moved), or the same name with an extension added or replaced (`a.doc` → `a.doc.locked`,
 *   `a.doc` → `a.crypt`), which is how many ransomware families leave their output;
 * - deleted: gone and not renamed;
 * - new extensions: renamed files whose extension the directory did not have before;
 * - became incompressible: modified or renamed files whose content compressed well before
 *   and does not compress at all now. Encrypted data is indistinguishable from random;
 *   office documents, text, databases and images in uncompressed formats compress.
 * @module
 */
import * as path from 'node:path';

/** One file as a side of a change: its path, its content ids (joined) and how it compressed. */
export interface FileSide {
  readonly path: string;
  /** the content's blob ids, joined: equal keys, equal content */
  readonly contentKey: string;
  /** stored/raw size of the content (0..1, 1 = did not compress); undefined = unknown or too small to say */
  readonly ratio: number | undefined;
}

export type FileChange =
  | { readonly kind: 'added'; readonly after: FileSide }
  | { readonly kind: 'removed'; readonly before: FileSide }
  | { readonly kind: 'modified'; readonly before: FileSide; readonly after: FileSide };

export interface ChangeMeasures {
  /** files in the previous snapshot: the base of every share */
  readonly filesBefore: number;
  readonly modified: number;
  readonly renamed: number;
  readonly deleted: number;
  readonly added: number;
  readonly newExtensions: number;
  /** the most frequent new extension (lower case, at most 16 characters), if any */
  readonly commonNewExtension: string | null;
  readonly becameIncompressible: number;
}

/** Content that compressed to less than this share of its size was compressible. */
export const COMPRESSIBLE_BELOW = 0.9;
/** Content stored at this share of its size or more did not compress (writers keep zstd output only below 31/32). */
export const INCOMPRESSIBLE_FROM = 0.97;

/**
 * `dirExtensions(dir)`: the extensions the directory's files had before (for "new extension").
 */
export function measureChanges(filesBefore: number, changes: readonly FileChange[], dirExtensions: (dir: string) => ReadonlySet<string>): ChangeMeasures {
  const removed = new Map<string, FileSide>();
  const removedByContent = new Map<string, string>();
  const byStem = new Map<string, FileSide[]>();
  for (const c of changes) {
    if (c.kind !== 'removed') continue;
    removed.set(c.before.path, c.before);
    if (c.before.contentKey) removedByContent.set(c.before.contentKey, c.before.path);
    const k = stemKey(c.before.path);
    byStem.set(k, [...(byStem.get(k) ?? []), c.before]);
  }
  let modified = 0;
  let renamed = 0;
  let added = 0;
  let newExtensions = 0;
  let becameIncompressible = 0;
  const extCount = new Map<string, number>();
  const turned = (before: FileSide, after: FileSide) =>
    before.ratio !== undefined && after.ratio !== undefined && before.ratio < COMPRESSIBLE_BELOW && after.ratio >= INCOMPRESSIBLE_FROM;
  for (const c of changes) {
    if (c.kind === 'modified') {
      modified++;
      if (turned(c.before, c.after)) becameIncompressible++;
    } else if (c.kind === 'added') {
      const origin = renameOrigin(c.after, removed, removedByContent, byStem);
      if (!origin) {
        added++;
        continue;
      }
      removed.delete(origin.path);
      renamed++;
      if (turned(origin, c.after)) becameIncompressible++;
      const ext = path.posix.extname(c.after.path).toLowerCase();
      if (ext && ext !== path.posix.extname(origin.path).toLowerCase() && !dirExtensions(path.posix.dirname(c.after.path)).has(ext)) {
        newExtensions++;
        if (/^\.[a-z0-9_~-]{1,15}$/.test(ext)) extCount.set(ext, (extCount.get(ext) ?? 0) + 1);
      }
    }
  }
  const common = [...extCount].sort((a, b) => b[1] - a[1])[0];
  return { filesBefore, modified, renamed, deleted: removed.size, added, newExtensions, commonNewExtension: common ? common[0] : null, becameIncompressible };
}

/** directory and name without its last extension */
function stemKey(p: string): string {
  const ext = path.posix.extname(p);
  return ext ? p.slice(0, -ext.length) : p;
}

/** The removed file this added one is a rename of, if any. */
function renameOrigin(
  after: FileSide,
  removed: ReadonlyMap<string, FileSide>,
  byContent: ReadonlyMap<string, string>,
  byStem: ReadonlyMap<string, readonly FileSide[]>,
): FileSide | undefined {
  const stem = stemKey(after.path);
  // a.doc -> a.doc.locked: the new name minus its extension was there.
  const appended = stem !== after.path ? removed.get(stem) : undefined;
  if (appended) return appended;
  const moved = after.contentKey ? byContent.get(after.contentKey) : undefined;
  if (moved !== undefined && removed.has(moved)) return removed.get(moved);
  // a.doc -> a.crypt: same directory and stem, another extension (only when unambiguous).
  const candidates = (byStem.get(stem) ?? []).filter((s) => removed.has(s.path));
  return candidates.length === 1 ? candidates[0] : undefined;
}
