import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/config/agent-config.js';
import { parseAgentConfig } from '../../src/config/agent-config.js';
import { backupSelection, SourceFilter } from '../../src/config/sources.js';
import { ConfigError } from '../../src/domain/errors.js';
import { ROOT } from '../helpers/cli.js';

const base = { repository: '/mnt/backup/repo', passwordFile: '/etc/coffre/passphrase', sources: [{ path: '/srv/identites', exclude: ['*.tmp'] }] };
const parse = (raw: unknown, env: NodeJS.ProcessEnv = {}) => parseAgentConfig(raw, '/etc/coffre/agent.config.json', env);
const problem = (raw: unknown, env: NodeJS.ProcessEnv = {}): string => {
  try {
    parse(raw, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('agent config', () => {
  it('fills in defaults', () => {
    const c = parse(base);
    expect(c.schedule).toEqual({ backup: '*/15 * * * *', rescan: '30 2 * * *' });
    expect(c.rpoMinutes).toBe(60);
    expect(c.watch.enabled).toBe(true);
    expect(c.logLevel).toBe('info');
    expect(c.sources[0]!.include).toEqual([]);
  });

  it('accepts the CLI.md example keys', () => {
    const c = parse({
      ...base,
      stateDir: '/var/lib/coffre',
      schedule: { backup: '*/15 * * * *', check: '0 3 * * 0', drill: '0 4 1 * *' },
      rpoMinutes: 60,
      metrics: { listen: '127.0.0.1:9479' },
      s3: { accessKeyIdFile: '/etc/coffre/s3-key-id', secretAccessKeyFile: '/etc/coffre/s3-secret', region: 'eu-west-3' },
    });
    expect(c.schedule.check).toBe('0 3 * * 0');
  });

  it.each([
    [{ ...base, sources: [{ path: 'srv' }] }, 'sources[0].path: expected an absolute path'],
    [{ ...base, sources: [{ path: '/srv', exlude: ['*.tmp'] }] }, 'sources[0].exlude: unknown key'],
    [{ ...base, sources: [] }, 'sources: expected at least one source'],
    [{ ...base, schedule: { backup: '61 * * * *' } }, 'schedule.backup: not a cron expression (61 is a invalid expression for minute)'],
    [{ ...base, rpoMinutes: 0 }, 'rpoMinutes: Too small'],
    [{ ...base, rpoMinutes: '60' }, 'rpoMinutes: expected number, received string'],
    [{ ...base, repository: undefined }, 'repository: missing'],
    [{ ...base, check: { readDataSubset: '120%' } }, 'check.readDataSubset: expected N%'],
    [{ ...base, metrics: { listen: '9479' } }, 'metrics.listen: expected HOST:PORT'],
    [{ ...base, s3: { accessKeyIdFile: '/etc/coffre/k' } }, 's3: set both accessKeyIdFile and secretAccessKeyFile'],
    [{ ...base, retention: { apply: true } }, 'retention: keeps nothing'],
    [{ ...base, schedule: { retention: '0 4 * * *' } }, 'schedule.retention: set, but there is no "retention" policy'],
    [{ ...base, logLevel: 'verbose' }, 'logLevel: expected one of'],
    [{ ...base, sources: [{ path: '/srv' }, { path: '/srv/a' }] }, 'sources[1].path: /srv/a is inside sources[0].path'],
    [[], '(top level): expected object, received array'],
  ])('names the key: %j', (raw, message) => {
    expect(problem(raw)).toContain(`agent config /etc/coffre/agent.config.json: ${message}`);
  });

  it('accepts agent.config.example.json, which sets every key the schema knows', () => {
    const file = path.join(ROOT, 'agent.config.example.json');
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(() => parse(raw)).not.toThrow();
    expect(Object.keys(raw).sort()).toEqual(Object.keys(agentConfigSchema.shape).sort());
    const docs = fs.readFileSync(path.join(ROOT, 'docs/agent-config.md'), 'utf8');
    // Every key the example sets, as the table names it: `s3.region`, `sources[].exclude`…
    const keys = (o: unknown, name: string): string[] =>
      Array.isArray(o)
        ? o.flatMap((x) => keys(x, `${name}[]`))
        : o && typeof o === 'object'
          ? Object.entries(o).flatMap(([k, v]) => {
              const full = name.endsWith('[]') ? `${name}.${k}` : name ? `${name}.${k}` : k;
              return [full, ...keys(v, full)];
            })
          : [];
    for (const key of new Set(keys(raw, ''))) expect(docs, `docs/agent-config.md documents ${key}`).toContain(`| \`${key}\``);
  });

  it('takes the passphrase file from COFFRE_PASSWORD_FILE, and never works without one', () => {
    const { passwordFile: _p, ...noPw } = base;
    expect(parse(noPw, { COFFRE_PASSWORD_FILE: '/run/pw' }).passwordFile).toBe('/run/pw');
    expect(problem(noPw)).toContain('passwordFile: missing (or set COFFRE_PASSWORD_FILE)');
  });

  it('schedules retention daily when a policy is given without a schedule', () => {
    expect(parse({ ...base, retention: { keepDaily: 7 } }).schedule.retention).toBe('15 4 * * *');
  });

  it('says how many other problems there are, on one line', () => {
    const m = problem({ ...base, rpoMinutes: -1, logLevel: 'x', sources: [{ path: 'rel' }] });
    expect(m).toMatch(/\(and 2 more problems\)$/);
    expect(m).not.toContain('\n');
  });
});

describe('backup selection', () => {
  it('scopes each source’s globs to that source', () => {
    const sel = backupSelection([
      { path: '/srv/b', exclude: ['*.tmp', 'cache/', 'logs/*.gz', '/top'] },
      { path: '/srv/a', include: ['*.csv'] },
    ]);
    expect(sel.paths).toEqual(['/srv/a', '/srv/b']);
    const f = new SourceFilter(sel);
    expect(f.takes('/srv/b/x/y.tmp', false)).toBe(false);
    expect(f.takes('/srv/a/y.tmp', false)).toBe(false); // not included in /srv/a
    expect(f.takes('/srv/a/d/y.csv', false)).toBe(true);
    expect(f.takes('/srv/a/d', true)).toBe(true);
    expect(f.takes('/srv/b/cache', true)).toBe(false);
    expect(f.takes('/srv/b/cache/deep/file', false)).toBe(false);
    expect(f.takes('/srv/b/d/cache/file', false)).toBe(false); // "cache/" is a name, as in .gitignore
    expect(f.takes('/srv/b/logs/x.gz', false)).toBe(false);
    expect(f.takes('/srv/b/other/logs/x.gz', false)).toBe(true);
    expect(f.takes('/srv/b/top', true)).toBe(false);
    expect(f.takes('/srv/b/d/top', true)).toBe(true);
    expect(f.takes('/srv/b/anything.csv', false)).toBe(true); // /srv/b has no include list
    expect(f.takes('/srv/c/x', false)).toBe(false); // under no source
  });
});
