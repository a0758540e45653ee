/**
 * The CLI loads only the command a command line names (src/cli/main.ts); help, --version
 * and names it does not know load every command, so they read as before.
 */
import { describe, expect, it } from 'vitest';
import { commandName } from '../../src/cli/fast-status.js';
import { buildProgram } from '../../src/cli/main.js';

const argv = (...args: string[]) => ['node', 'coffre', ...args];
const names = async (...args: string[]) => (await buildProgram(argv(...args))).commands.map((c) => c.name());

describe('loading only the named command', () => {
  it.each([
    [['backup', '/srv'], 'backup'],
    [['--repo', '/mnt/r', '--password-file', 'pw', 'backup', '/srv'], 'backup'],
    [['-r', 'restore', 'snapshots'], 'snapshots'], // "restore" is the repository there
    [['--repo=/mnt/r', '--debug', 'ls', 'latest'], 'ls'],
    [['--workers', '2', 'key', 'list'], 'key'],
    [['--help'], undefined],
    [[], undefined],
  ])('%j names %s', (args, expected) => {
    expect(commandName(argv(...args))).toBe(expected);
  });

  it('registers that command alone; help, --version and unknown names get them all', async () => {
    expect(await names('--repo', '/r', 'backup', '/srv')).toEqual(['backup']);
    expect(await names('ls', 'latest')).toEqual(['snapshots', 'ls']);
    const all = await names('--help');
    expect(all).toEqual(expect.arrayContaining(['init', 'backup', 'snapshots', 'ls', 'restore', 'dump', 'check', 'drill', 'key', 'prune', 'status', 'agent']));
    for (const args of [[], ['--version'], ['help', 'backup'], ['bakup']]) expect(await names(...args)).toEqual(all);
    // Every command is found by its own name.
    for (const name of all) expect(await names(name)).toContain(name);
  });
});

describe('coffre --version', () => {
  it("prints package.json's version, alone or through commander, and exits 0", async () => {
    const { readFileSync } = await import('node:fs');
    const { cliOk } = await import('../helpers/cli.js');
    const { VERSION } = await import('../../src/domain/version.js');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    for (const args of [['--version'], ['-V'], ['--debug', '--version']]) {
      expect((await cliOk(args)).stdout).toBe(`${pkg.version}\n`);
    }
  });
});
