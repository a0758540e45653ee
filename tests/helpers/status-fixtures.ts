/**
 * Health-model inputs for unit tests: a healthy server at a fixed instant (2025-06-01 12:00
 * UTC), each part overridable, so that a test changes exactly what it is about.
 */
import type { AgentView, BackupRun, CatalogView, HealthInputs } from '../../src/status/inputs.js';

export const NOW = Date.parse('2025-06-01T12:00:00Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export const okRun = (startedAgo: number, over: Partial<BackupRun> = {}): BackupRun => ({
  started: NOW - startedAgo,
  finished: NOW - startedAgo + 30_000,
  result: 'ok',
  snapshotId: 'ab'.repeat(32),
  error: null,
  filesNew: 3,
  ...over,
});

export function catalog(over: Partial<CatalogView> = {}): CatalogView {
  const last = okRun(10 * MIN);
  return {
    available: true,
    file: '/var/lib/coffre/x.sqlite',
    lastBackup: last,
    lastBackupSuccess: last,
    lastBackupFailure: null,
    backupFailuresInARow: 0,
    failingSince: null,
    backupRunning: null,
    firstRun: NOW - 30 * DAY,
    lastCheck: { started: NOW - DAY - HOUR, finished: NOW - DAY, result: 'ok', error: null, damage: false },
    lastCheckSuccess: { started: NOW - DAY - HOUR, finished: NOW - DAY, result: 'ok', error: null, damage: false },
    lastDrill: drill(),
    lastDrillSuccess: drill(),
    pending: { count: 0, oldest: null },
    anomaly: null,
    repository: { snapshots: 10, packs: 4, storedBytes: 1e8, logicalBytes: 5e8, latestSnapshot: null, facts: null },
    ...over,
  };
}

export function drill(over: Partial<NonNullable<CatalogView['lastDrill']>> = {}): NonNullable<CatalogView['lastDrill']> {
  return { started: NOW - 3 * DAY, finished: NOW - 3 * DAY + MIN, snapshotId: 'cd'.repeat(32), result: 'ok', files: 200, bytes: 1e7, mismatches: 0, durationMs: MIN, rtoEstimateMs: 2 * HOUR, error: null, damage: false, ...over };
}

export const stoppedAgent: AgentView = {
  running: false,
  pid: null,
  startedAt: null,
  phase: null,
  updatedAt: null,
  runningJob: null,
  jobs: {},
  watcher: null,
  pending: null,
  anomaly: null,
};

export const runningAgent = (over: Partial<AgentView> = {}): AgentView => ({
  ...stoppedAgent,
  running: true,
  pid: 4242,
  startedAt: NOW - 2 * DAY,
  phase: 'running',
  updatedAt: NOW - 1000,
  watcher: { health: 'watching', message: null },
  ...over,
});

export function inputs(over: Partial<HealthInputs> = {}): HealthInputs {
  return {
    now: NOW,
    host: 'srv-01',
    repository: { location: 's3:https://s3.example.net/bucket/srv-01', id: 'ff'.repeat(32) },
    rpoMs: HOUR,
    schedules: {
      backup: { expression: '*/15 * * * *', nextRun: NOW + 5 * MIN, intervalMs: 15 * MIN },
      check: { expression: '0 3 * * *', nextRun: NOW + 15 * HOUR, intervalMs: DAY },
      drill: { expression: '0 4 * * 0', nextRun: NOW + 4 * DAY, intervalMs: 7 * DAY },
    },
    agentExpected: true,
    sources: [{ path: '/srv/identites', pending: 0, inLastBackup: true }],
    catalog: catalog(),
    agent: runningAgent(),
    safePaths: ['/var/lib/coffre'],
    ...over,
  };
}
