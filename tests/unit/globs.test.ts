import { describe, expect, it } from 'vitest';
import { escapeGlob, globMatcher } from '../../src/archiver/globs.js';

describe('globMatcher', () => {
  it('matches names at any depth with globs without a slash', () => {
    const m = globMatcher(['*.tmp', 'cache'])!;
    expect(m('/srv/a/x.tmp')).toBe(true);
    expect(m('/srv/a/b/.x.tmp')).toBe(true);
    expect(m('/srv/a/cache')).toBe(true);
    expect(m('/srv/a/cachex')).toBe(false);
  });

  it('matches whole paths with globs that have a slash, mixed with name globs', () => {
    const m = globMatcher(['*.tmp', '/srv/a/**/*.log', '/srv/a/private'])!;
    expect(m('/srv/a/x.log')).toBe(true);
    expect(m('/srv/a/b/c/x.log')).toBe(true);
    expect(m('/srv/b/x.log')).toBe(false);
    expect(m('/srv/a/private')).toBe(true);
    expect(m('/srv/a/private2')).toBe(false);
    expect(m('/srv/b/y.tmp')).toBe(true);
  });

  it('is undefined without patterns', () => {
    expect(globMatcher([])).toBeUndefined();
  });

  it('escapes literal paths', () => {
    const m = globMatcher([`${escapeGlob('/srv/x[1] (old)')}/**`])!;
    expect(m('/srv/x[1] (old)/f')).toBe(true);
    expect(m('/srv/x1 (old)/f')).toBe(false);
  });
});
