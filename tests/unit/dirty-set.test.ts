import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import { DirtySet } from '../../src/service/dirty-set.js';
import { tempDir } from '../helpers/tmp.js';

const silent = pino({ level: 'silent' });
const rootOf = (p: string) => ['/srv/a', '/srv/b'].find((r) => p === r || p.startsWith(`${r}/`));
const make = (opts: { maxPending?: number } = {}) => new DirtySet({ debounceMs: 10_000, maxPending: opts.maxPending ?? 1000, rootOf, log: silent });

describe('DirtySet', () => {
  it('keeps changes in memory until a catalog is attached, then in the catalog, which outlives the process', () => {
    const file = Catalog.fileFor(tempDir(), 'r'.repeat(64));
    const set = make();
    set.note('/srv/a/x');
    set.mark(['/srv/b/y']);
    expect(set.count()).toBe(2);
    let catalog = Catalog.open(file, { repositoryId: 'r'.repeat(64) });
    set.attach(catalog.dirty);
    set.note('/srv/a/z');
    set.close();
    catalog.close();

    catalog = Catalog.open(file, { repositoryId: 'r'.repeat(64) });
    const again = make();
    again.attach(catalog.dirty);
    expect(again.count()).toBe(3);
    catalog.close();
  });

  it('clears what a backup covered, but not what it could not read nor what changed after it started', async () => {
    const set = make();
    set.mark(['/srv/a/1', '/srv/a/unreadable', '/srv/b/2']);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    set.mark(['/srv/a/changed-again']);
    expect(set.clearCovered(['/srv/a'], started, ['/srv/a/unreadable'])).toBe(2);
    // /srv/a/1 is gone; the rest stays: unreadable, changed after the start, and /srv/b not covered
    expect(set.count()).toBe(3);
  });

  it('collapses too many changes into their source roots', () => {
    const set = make({ maxPending: 5 });
    for (let i = 0; i < 20; i++) set.note(`/srv/a/f${i}`);
    set.note('/srv/b/g');
    set.flush();
    expect(set.count()).toBeLessThanOrEqual(6);
    set.clearCovered(['/srv/a', '/srv/b'], Date.now() + 1, []);
    expect(set.count()).toBe(0);
  });

  it('waits for changes to settle, but not forever', async () => {
    const set = make();
    set.note('/srv/a/x');
    expect(await set.settle(200, 5000, () => false)).toBeGreaterThanOrEqual(150);
    set.note('/srv/a/log');
    const t = setInterval(() => set.note('/srv/a/log'), 20);
    try {
      const waited = await set.settle(200, 600, () => false);
      expect(waited).toBeGreaterThanOrEqual(600);
    } finally {
      clearInterval(t);
    }
    expect(await set.settle(200, 5000, () => true)).toBeLessThan(100);
  });
});
