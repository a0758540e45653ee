/**
 * The agent config file (`coffre agent --config FILE`): its schema and how it is read.
 *
 * The keys listed in CLI.md (repository, passwordFile, stateDir, sources[{path, exclude}],
 * schedule{backup, check, drill}, rpoMinutes, metrics{listen}, s3{…}) are a contract admins
 * keep for years; others are added freely. docs/agent-config.md documents every key and
 * agent.config.example.json is a working example. Unknown keys are refused (a misspelt
 * "exlude" would otherwise silently back up what it meant to leave out).
 *
 * A bad file fails with one line naming the exact key path and what is wrong with it:
 *   agent config /etc/coffre/agent.config.json: sources[0].path: expected an absolute path
 * @module
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { parseSubset } from '../checker/subset.js';
import { ConfigError, describeError } from '../domain/errors.js';
import { parseDuration } from '../retention/policy.js';
import { alertsSchema, metricsSchema } from './monitoring.js';

const absolutePath = z.string().refine((p) => path.isAbsolute(p), { message: 'expected an absolute path' });

const glob = z.string().min(1, { message: 'expected a non-empty glob' });

const cronExpression = z.string().superRefine((expr, ctx) => {
  const v = validateDetailed(expr);
  if (!v.valid) ctx.addIssue({ code: 'custom', message: `not a cron expression (${v.errors.map((e) => e.message).join('; ')})` });
});

const subset = z.string().superRefine((s, ctx) => {
  try {
    parseSubset(s);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected N% (a window that moves daily) or n/m (one group of m)' });
  }
});

const count = z.number().int().min(0);
const positive = z.number().int().positive();

const source = z.strictObject({
  path: absolutePath,
  /** globs left out: without "/", they match names anywhere below the source; with "/", paths from the source root */
  exclude: z.array(glob).default([]),
  /** when given, only files matching one of these are backed up (directories are always walked) */
  include: z.array(glob).default([]),
});

const duration = z.string().superRefine((d, ctx) => {
  try {
    parseDuration(d);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 2d, 36h, 1y6m' });
  }
});

const retention = z
  .strictObject({
    keepLast: count.default(0),
    keepHourly: count.default(0),
    keepDaily: count.default(0),
    keepWeekly: count.default(0),
    keepMonthly: count.default(0),
    keepYearly: count.default(0),
    keepWithin: duration.optional(),
    keepTags: z.array(z.string().min(1)).default([]),
    /** no snapshot younger than this many days is forgotten, whatever the keep rules say */
    floorDays: z.number().min(0).default(0),
    /** false (default): only log what would be forgotten */
    apply: z.boolean().default(false),
  })
  .refine((r) => r.keepLast + r.keepHourly + r.keepDaily + r.keepWeekly + r.keepMonthly + r.keepYearly > 0 || r.keepWithin !== undefined || r.keepTags.length > 0, {
    message: 'keeps nothing: set at least one of keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly above 0, or keepWithin, or keepTags',
  });

const share = z.number().min(0).max(1);
/** Mass-change detection (src/anomaly/judge.ts); shares of the files the previous snapshot had. */
const anomaly = z
  .strictObject({
    enabled: z.boolean().default(true),
    minFiles: count.default(20),
    changedShare: share.default(0.3),
    incompressibleShare: share.default(0.1),
    newExtensionShare: share.default(0.1),
    /** clean snapshots before an unacknowledged anomaly that retention keeps, per host and paths */
    keepClean: positive.default(3),
  })
  .default({ enabled: true, minFiles: 20, changedShare: 0.3, incompressibleShare: 0.1, newExtensionShare: 0.1, keepClean: 3 });

export const agentConfigSchema = z.strictObject({
  repository: z.string().min(1, { message: 'expected a repository location' }),
  passwordFile: absolutePath.optional(),
  stateDir: absolutePath.optional(),
  host: z.string().min(1).optional(),
  tags: z.array(z.string().min(1)).default([]),
  sources: z.array(source).min(1, { message: 'expected at least one source' }),
  schedule: z
    .strictObject({
      backup: cronExpression.default('*/15 * * * *'),
      rescan: cronExpression.default('30 2 * * *'),
      check: cronExpression.optional(),
      drill: cronExpression.optional(),
      retention: cronExpression.optional(),
    })
    .default({ backup: '*/15 * * * *', rescan: '30 2 * * *' }),
  rpoMinutes: positive.default(60),
  check: z.strictObject({ readDataSubset: subset.default('5%') }).default({ readDataSubset: '5%' }),
  drill: z
    .strictObject({ sample: positive.default(200), full: z.boolean().default(false), compareLive: z.boolean().default(false) })
    .default({ sample: 200, full: false, compareLive: false }),
  retention: retention.optional(),
  anomaly,
  watch: z
    .strictObject({
      enabled: z.boolean().default(true),
      debounceMs: positive.default(1000),
      settleSeconds: count.default(2),
      maxSettleSeconds: count.default(60),
      maxPendingPaths: positive.default(100_000),
      usePolling: z.boolean().default(false),
      rescanOnStart: z.boolean().default(true),
    })
    .default({ enabled: true, debounceMs: 1000, settleSeconds: 2, maxSettleSeconds: 60, maxPendingPaths: 100_000, usePolling: false, rescanOnStart: true }),
  retry: z
    .strictObject({ minSeconds: positive.default(10), maxSeconds: positive.default(600) })
    .refine((r) => r.maxSeconds >= r.minSeconds, { message: 'maxSeconds is smaller than minSeconds' })
    .default({ minSeconds: 10, maxSeconds: 600 }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  metrics: metricsSchema.optional(),
  alerts: alertsSchema.optional(),
  s3: z
    .strictObject({
      accessKeyIdFile: absolutePath.optional(),
      secretAccessKeyFile: absolutePath.optional(),
      region: z.string().min(1).optional(),
      concurrency: positive.optional(),
      uploadBytesPerSecond: positive.optional(),
    })
    .refine((s) => (s.accessKeyIdFile === undefined) === (s.secretAccessKeyFile === undefined), {
      message: 'set both accessKeyIdFile and secretAccessKeyFile, or neither (then the AWS standard chain is used)',
    })
    .optional(),
  workers: count.optional(),
});

/** The config as read from the file, defaults filled in. */
export type AgentConfigFile = z.infer<typeof agentConfigSchema>;

/** The config the agent runs with: the file, plus what came from the environment. */
export interface AgentConfig extends AgentConfigFile {
  /** where it was read from */
  readonly file: string;
  readonly passwordFile: string;
}

/** Reads and validates the agent config; every problem is a ConfigError naming the key path. */
export async function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<AgentConfig> {
  const where = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(where, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read agent config ${where}: ${(e as NodeJS.ErrnoException).code ?? describeError(e)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`agent config ${where}: not valid JSON (${describeError(e)})`);
  }
  return parseAgentConfig(raw, where, env);
}

export function parseAgentConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const r = agentConfigSchema.safeParse(raw);
  if (!r.success) {
    const [first, ...rest] = r.error.issues;
    const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
    throw new ConfigError(`agent config ${file}: ${describeIssue(first!)}${more}`, { hint: 'see docs/agent-config.md' });
  }
  const cfg = r.data;
  const passwordFile = cfg.passwordFile ?? env.COFFRE_PASSWORD_FILE;
  if (!passwordFile) {
    throw new ConfigError(`agent config ${file}: passwordFile: missing (or set COFFRE_PASSWORD_FILE)`, { hint: 'the agent never prompts for a passphrase' });
  }
  if (cfg.schedule.retention !== undefined && cfg.retention === undefined) {
    throw new ConfigError(`agent config ${file}: schedule.retention: set, but there is no "retention" policy to run`);
  }
  const schedule = cfg.retention && cfg.schedule.retention === undefined ? { ...cfg.schedule, retention: '15 4 * * *' } : cfg.schedule;
  const paths = cfg.sources.map((s) => path.resolve(s.path));
  paths.forEach((p, i) => {
    const j = paths.findIndex((q, k) => k !== i && (p === q || p.startsWith(q === '/' ? '/' : `${q}/`)));
    if (j >= 0) throw new ConfigError(`agent config ${file}: sources[${i}].path: ${p} is inside sources[${j}].path (${paths[j]}); list it once`);
  });
  return { ...cfg, schedule, file, passwordFile: path.resolve(passwordFile) };
}

/** `sources[0].exclude[2]: expected a non-empty glob` */
function describeIssue(issue: z.core.$ZodIssue): string {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join(', ');
  }
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return `${at}: missing`;
  return `${at || '(top level)'}: ${issue.message.replace(/^Invalid (input|option): /, '')}`;
}

export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out;
}
