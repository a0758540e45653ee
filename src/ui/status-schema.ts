/**
 * The schema of `coffre status --json`, version 1: a contract monitoring scripts rely on.
 * Fields may be added within version 1; none is renamed, removed or changes meaning
 * without a new version. docs/status.schema.json is generated from this
 * (`node scripts/status-schema.mjs`) and a test keeps the two equal; docs/status.md
 * explains the fields.
 *
 * Only tests and that script load this at run time (zod is slow to load); the renderer
 * imports its type alone.
 * @module
 */
import { z } from 'zod';

const state = z.enum(['OK', 'WARNING', 'CRITICAL', 'UNKNOWN']);
const iso = z.iso.datetime().describe('ISO 8601 time, UTC');
const seconds = z.number().int().min(0);
const count = z.number().int().min(0);
const when = z.strictObject({ at: iso, ageSeconds: seconds });

const check = z.strictObject({
  id: z.enum(['catalog', 'recovery-point', 'last-backup', 'sources', 'check', 'drill', 'agent', 'watcher', 'jobs', 'anomaly']).describe('what was judged'),
  state,
  message: z.string().describe('one line; never a path below a source root'),
});

const backupRun = z.strictObject({
  started: iso,
  finished: iso,
  ageSeconds: seconds.describe('age of the recovery point: now minus `started`'),
  result: z.enum(['ok', 'incomplete']).describe('incomplete: the snapshot was saved, but some files could not be read'),
  snapshotId: z.string().nullable(),
  durationSeconds: seconds,
  filesNew: count.nullable(),
  filesChanged: count.nullable(),
  filesUnmodified: count.nullable(),
  bytesRead: count.nullable(),
  bytesAdded: count.nullable(),
});

const failure = z.strictObject({
  at: iso,
  ageSeconds: seconds,
  message: z.string().describe('the one-line reason, paths below the sources redacted'),
  current: z.boolean().describe('true while no later backup has succeeded'),
  failuresInARow: count.describe('failed attempts since the last success (0 when not current)'),
});

const verification = z.strictObject({
  at: iso,
  ageSeconds: seconds,
  result: z.enum(['ok', 'damage', 'not-run']).describe('damage: it ran and found damage; not-run: it could not run (storage, credentials…)'),
  message: z.string().nullable(),
});

const drillRun = verification.extend({
  snapshotId: z.string().nullable(),
  files: count.nullable(),
  bytes: count.nullable(),
  mismatches: count.nullable(),
  durationSeconds: seconds.nullable(),
  rtoEstimateSeconds: seconds.nullable().describe('projected time to restore the whole snapshot'),
});

export const statusDocumentSchema = z.strictObject({
  version: z.literal(1),
  state,
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).describe('the exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'),
  summary: z.string().describe('the reasons, worst first (the text after "COFFRE STATE - " in the first line)'),
  generatedAt: iso,
  host: z.string(),
  checks: z.array(check).describe('every aspect judged; an aspect with nothing to judge is left out'),
  repository: z.strictObject({
    location: z.string().nullable().describe('local path, or s3:https://HOST/BUCKET/PREFIX; never credentials'),
    id: z.string().nullable(),
    snapshots: count.nullable(),
    packs: count.nullable(),
    storedBytes: count.nullable().describe('sum of the pack sizes'),
    logicalBytes: count.nullable().describe("sum of every snapshot's file sizes: what restoring all of them would write"),
    latestSnapshot: z.strictObject({ id: z.string(), time: iso }).nullable(),
    recorded: z
      .strictObject({
        at: iso,
        ageSeconds: seconds,
        objectLock: z.strictObject({ mode: z.string(), days: count }).nullable(),
        keyFiles: count,
        uniqueBytes: count.describe('data stored once each, before compression'),
        encodedBytes: count.describe('the same, compressed and encrypted'),
        dedupSavings: z.number().min(0).max(1).nullable().describe('1 - uniqueBytes / logicalBytes'),
        compressionSavings: z.number().max(1).nullable().describe('1 - encodedBytes / uniqueBytes (negative when sealing costs more than compression saves)'),
      })
      .nullable()
      .describe('facts only the repository knows, as recorded at the last contact of a backup or the agent; null if never'),
  }),
  backup: z.strictObject({
    rpoSeconds: seconds.describe('the recovery-point objective'),
    warningAtSeconds: seconds.describe('WARNING from this recovery-point age on (80% of the objective)'),
    lastSuccess: backupRun.nullable(),
    lastFailure: failure.nullable(),
    running: z.strictObject({ since: iso, pid: z.number().int().nullable() }).nullable(),
    schedule: z.string().nullable(),
    nextRun: iso.nullable(),
    pendingChanges: count.nullable().describe('changed paths waiting for the next backup'),
    oldestPendingChange: iso.nullable(),
  }),
  sources: z.array(
    z.strictObject({
      path: z.string(),
      pendingChanges: count.nullable(),
      inLastBackup: z.boolean().nullable(),
      lastSuccess: when.nullable(),
      nextRun: iso.nullable(),
    }),
  ),
  check: z.strictObject({ schedule: z.string().nullable(), nextRun: iso.nullable(), last: verification.nullable(), lastSuccess: when.nullable() }),
  drill: z.strictObject({ schedule: z.string().nullable(), nextRun: iso.nullable(), last: drillRun.nullable(), lastSuccess: drillRun.nullable() }),
  agent: z.strictObject({
    expected: z.boolean().describe('a config was given, so the agent should run'),
    running: z.boolean(),
    pid: z.number().int().nullable(),
    startedAt: iso.nullable(),
    phase: z.string().nullable(),
    updatedAt: iso.nullable().describe('when it last wrote its status'),
    runningJob: z.strictObject({ job: z.string(), since: iso }).nullable(),
    watcher: z.strictObject({ health: z.string(), message: z.string().nullable() }).nullable(),
  }),
  catalog: z.strictObject({
    available: z.boolean(),
    file: z.string().nullable(),
    reason: z.string().nullable().describe('why the state could not be read, when it could not'),
  }),
});

export type StatusDocument = z.infer<typeof statusDocumentSchema>;
