/**
 * The node flags the program runs with (bin/coffre.js, scripts/install-service.sh): the
 * command line and the installed wrapper keep a 1 MiB young generation, the agent's unit
 * gives its main thread 8 MiB (docs/benchmarks.md).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('node flags', () => {
  it('are on the launcher line, and the agent unit runs node with its own young generation', () => {
    const shebang = fs.readFileSync(path.join(root, 'bin/coffre.js'), 'utf8').split('\n')[0];
    expect(shebang).toBe('#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1');
    const unit = path.join(tempDir(), 'coffre.service');
    execFileSync(path.join(root, 'scripts/install-service.sh'), ['--unit-only', unit], { cwd: root });
    const exec = fs.readFileSync(unit, 'utf8').split('\n').find((l) => l.startsWith('ExecStart='));
    expect(exec).toMatch(/^ExecStart=\S*node --max-semi-space-size=8 \S+\/bin\/coffre\.js agent /);
  });
});
