import { hostname } from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { resolveStateDir } from '../../app/state-dir.js';
import { DEFAULT_RPO_MINUTES, gatherHealthInputs, targetFromConfig, targetFromFlags, type StatusTarget } from '../../app/status-inputs.js';
import { describeError, UsageError } from '../../domain/errors.js';
import { NO_AGENT, readAgentView } from '../../service/agent-view.js';
import { evaluateHealth } from '../../status/evaluate.js';
import type { HealthInputs } from '../../status/inputs.js';
import { statusDocument } from '../../ui/status-json.js';
import { renderStatusText } from '../../ui/status-text.js';
import { describeLocation } from '../../storage/open-storage.js';
import type { GlobalFlags } from '../options.js';
import { printJson } from '../output.js';

interface StatusFlags {
  json?: boolean;
  config?: string;
  rpoMinutes?: number;
}

/**
 * `coffre status`: health for admins and monitoring. Reads local state only (the catalog,
 * read-only, and the agent's status file): no passphrase, no storage, an answer in a
 * fraction of a second even while the storage is down. Exits like a Nagios/Icinga plugin:
 * 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN — also when the state cannot be read at all, so
 * that monitoring shows UNKNOWN, not a bogus CRITICAL, for a mistyped path.
 */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('backup health: OK, WARNING, CRITICAL or UNKNOWN (exit 0-3, Nagios/Icinga plugin format); no passphrase needed')
    .option('--json', 'print a JSON document (schema: docs/status.md)')
    .option('--config <file>', "the agent's config: state dir, repository, sources, objective, schedules (env COFFRE_CONFIG)")
    .option('--rpo-minutes <n>', 'recovery-point objective without --config (default 60)', (v) => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--rpo-minutes: expected a positive integer, got "${v}"`);
      return Number(v);
    })
    .action(async (opts: StatusFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalFlags>();
      let inputs: HealthInputs;
      try {
        const target = await resolveTarget(opts, g);
        const agent = await readAgentView(target.stateDir, target.location);
        inputs = gatherHealthInputs(target, agent);
      } catch (e) {
        const file = opts.config ?? process.env.COFFRE_CONFIG;
        inputs = unreadable(describeError(e), file ? [path.resolve(file)] : []);
      }
      const report = evaluateHealth(inputs);
      const doc = statusDocument(report, inputs);
      if (opts.json) printJson(doc);
      else process.stdout.write(renderStatusText(doc));
      process.exitCode = report.exitCode;
    });
}

async function resolveTarget(opts: StatusFlags, g: GlobalFlags): Promise<StatusTarget> {
  const file = opts.config ?? process.env.COFFRE_CONFIG;
  if (file) {
    // Loaded only here: the config's schema (zod) is the slowest thing status would load.
    const { loadAgentConfig } = await import('../../config/agent-config.js');
    // The agent's config must name a passphrase file; status never reads it, so any will do here.
    const env = { ...process.env, COFFRE_PASSWORD_FILE: process.env.COFFRE_PASSWORD_FILE ?? '/dev/null' };
    const c = await loadAgentConfig(file, env);
    const target = targetFromConfig(c, resolveStateDir(g.stateDir ?? c.stateDir), describeLocation(g.repo ?? c.repository));
    return opts.rpoMinutes ? { ...target, rpoMs: opts.rpoMinutes * 60_000 } : target;
  }
  const repo = g.repo ?? process.env.COFFRE_REPOSITORY;
  return targetFromFlags(resolveStateDir(g.stateDir), repo ? describeLocation(repo) : null, opts.rpoMinutes);
}

/** Inputs that say only why the state could not be read (`safePaths`: what the reason may name). */
function unreadable(reason: string, safePaths: readonly string[]): HealthInputs {
  return {
    now: Date.now(),
    host: hostname(),
    repository: { location: null, id: null },
    rpoMs: DEFAULT_RPO_MINUTES * 60_000,
    schedules: {},
    agentExpected: false,
    sources: [],
    catalog: { available: false, fresh: false, reason },
    agent: NO_AGENT,
    safePaths,
  };
}
