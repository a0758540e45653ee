/**
 * `check` takes the index objects the repository's open has just read (runCheck passes them
 * as `indexesRead`) instead of fetching them all again: one download of the index instead of
 * two on S3. It still lists index/ and reads what it was not given, so every index object is
 * judged: the findings are the same either way, for an intact repository, for one with a
 * damaged index object (which the open could not read), and when an object is missing from
 * what it is given.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backup } from '../../src/archiver/archiver.js';
import { checkRepository } from '../../src/checker/checker.js';
import type { IndexId } from '../../src/domain/ids.js';
import { MemoryBlobIndex } from '../../src/repository/blob-index.js';
import type { IndexContent } from '../../src/repository/index-file.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local.js';
import { countingStorage } from '../helpers/counting-storage.js';
import { newLocalRepository } from '../helpers/local-repo.js';
import { csvText } from '../helpers/tree.js';

async function reopen(repoDir: string) {
  const counting = countingStorage(new LocalStorage(repoDir));
  const repo = await Repository.open(counting.storage, Buffer.from('pw'), { index: new MemoryBlobIndex(), workers: 0 });
  const read = new Map<IndexId, IndexContent>();
  await repo.loadIndex(undefined, (id, content) => read.set(id, content));
  return { repo, read, counting };
}

describe('check and the index objects read by the open', () => {
  it('fetches only what it was not given, and finds the same, intact, damaged or given less', async () => {
    const { dir, repo: writer } = await newLocalRepository({ workers: 1 });
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 2; i++) {
      fs.writeFileSync(path.join(src, `p${i}.csv`), csvText(4_000, i));
      await backup(writer, { paths: [src] }); // one index object per backup
    }
    await writer.close();
    const repoDir = path.join(dir, 'repo');
    const indexFiles = fs.readdirSync(path.join(repoDir, 'index'));
    expect(indexFiles).toHaveLength(2);

    /** checks with what the open read (less `drop`), then fetching everything; `fetchedAgain` index GETs expected */
    const findingsBothWays = async (fetchedAgain: number, drop?: string) => {
      const { repo, read, counting } = await reopen(repoDir);
      try {
        if (drop) read.delete(drop as IndexId);
        const before = { get: counting.count('get', 'index/'), list: counting.count('list', 'index/') };
        const given = await checkRepository(repo, { indexesRead: read });
        expect(counting.count('get', 'index/')).toBe(before.get + fetchedAgain);
        expect(counting.count('list', 'index/')).toBe(before.list + 1);
        const fetched = await checkRepository(repo);
        expect(counting.count('get', 'index/')).toBe(before.get + fetchedAgain + 2);
        expect({ ...given, findings: [...given.findings] }).toEqual({ ...fetched, findings: [...fetched.findings] });
        return given;
      } finally {
        await repo.close();
      }
    };

    const intact = await findingsBothWays(0);
    expect(intact.ok).toBe(true);
    expect(intact.snapshots).toBe(2);
    expect((await findingsBothWays(1, indexFiles[1])).ok).toBe(true);

    // a flipped byte in one index object: named as damaged either way
    const victim = path.join(repoDir, 'index', indexFiles[0]!);
    const bytes = fs.readFileSync(victim);
    bytes[bytes.length >> 1]! ^= 0x40;
    fs.writeFileSync(victim, bytes);
    const damaged = await findingsBothWays(1); // the open skipped it; the check reads it and names it
    expect(damaged.ok).toBe(false);
    expect(damaged.findings.filter((f) => f.severity === 'error').map((f) => f.object)).toContain(`index/${indexFiles[0]}`);
  });
});
