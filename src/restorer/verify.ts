/**
 * Checking a restored file against its snapshot entry: its size, then every piece, read
 * back from disk and named with the repository's keyed hash, must equal the content ids
 * recorded at backup time. Proof that the bytes on disk are the bytes backed up.
 * @module
 */
import * as fs from 'node:fs/promises';
import type { Repository } from '../repository/repository.js';
import type { TreeNode } from '../repository/tree.js';

/** undefined when the file is exactly as in the snapshot; otherwise what differs. */
export async function verifyFile(repo: Repository, p: string, node: TreeNode): Promise<string | undefined> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(p, 'r');
  } catch (e) {
    return `cannot open: ${(e as Error).message}`;
  }
  try {
    const st = await fh.stat();
    if (st.size !== (node.size ?? 0)) return `size ${st.size}, expected ${node.size ?? 0}`;
    let at = 0;
    for (const [i, id] of (node.content ?? []).entries()) {
      const blob = repo.index.lookup(id);
      if (!blob) return `blob ${id.slice(0, 8)} is not in the index`;
      const buf = Buffer.allocUnsafe(blob.rawLength);
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead !== buf.length || repo.blobId(buf) !== id) return `content differs in piece ${i + 1} (offset ${at})`;
      at += blob.rawLength;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}
