/**
 * Worker threads start as tasks need them: none for a command that seals nothing, one while
 * one task at a time is in flight (a backup of one large file, or of a few changed small
 * files), another only when a task comes while every started thread is busy; `warmUp` starts
 * them all. What they seal opens the same whichever thread sealed it. Threads load the
 * bundle of their script that the build makes (scripts/bundle-workers.mjs), one file.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workerScript } from '../../src/workers/pool.js';
import { newLocalRepository } from '../helpers/local-repo.js';
import { seededBytes } from '../helpers/tree.js';

describe('starting worker threads', () => {
  it('loads the bundled worker script, which imports no module of ours, from src, dist and the CLI bundle', () => {
    const from = (p: string) => workerScript('codec-worker', new URL(p, import.meta.url).href).pathname;
    expect(from('../../src/workers/codec.ts')).toMatch(/\/dist\/workers\/codec-worker\.bundle\.js$/);
    expect(from('../../dist/workers/codec.js')).toMatch(/\/dist\/workers\/codec-worker\.bundle\.js$/);
    // the command line's bundle (bin/coffre.js loads dist/bundle/main.js) and its chunks
    expect(from('../../dist/bundle/main.js')).toMatch(/\/dist\/bundle\/codec-worker\.bundle\.js$/);
    for (const p of [from('../../src/workers/codec.ts'), from('../../dist/bundle/main.js')]) {
      const text = fs.readFileSync(p, 'utf8');
      // packages and node's modules only: every file of ours is inside
      const imports = [...text.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
      expect(imports.length).toBeGreaterThan(0);
      expect(imports.filter((i) => i.startsWith('.') || i.startsWith('/'))).toEqual([]);
      expect(text).toContain('COFFRE_TEST_WORKER_EXIT'); // the entry point itself is in it
    }
  });

  it('starts one thread per task in flight, up to the pool size', async () => {
    const { repo } = await newLocalRepository({ workers: 3 });
    try {
      const codec = repo.codec;
      expect(codec.threads).toBe(3);
      expect(codec.startedThreads).toBe(0);
      const blobs = Array.from({ length: 6 }, (_, i) => seededBytes(64 * 1024, i));
      const ids = blobs.map((b) => repo.blobId(b));
      const sealed = [];
      for (let i = 0; i < 3; i++) sealed.push(await codec.seal('data', ids[i]!, Buffer.from(blobs[i]!)));
      expect(codec.startedThreads).toBe(1); // one task at a time: one thread
      sealed.push(...(await Promise.all([3, 4, 5].map((i) => codec.seal('data', ids[i]!, Buffer.from(blobs[i]!))))));
      expect(codec.startedThreads).toBe(3); // three at once: three threads
      const opened = await Promise.all(sealed.map((s, i) => codec.open('data', ids[i]!, s, blobs[i]!.length, 'test')));
      opened.forEach((o, i) => expect(o.equals(blobs[i]!)).toBe(true));
    } finally {
      await repo.close();
    }
  });

  it('starts them all at warmUp', async () => {
    const { repo } = await newLocalRepository({ workers: 2 });
    try {
      repo.codec.warmUp();
      expect(repo.codec.startedThreads).toBe(2);
    } finally {
      await repo.close();
    }
  });
});
