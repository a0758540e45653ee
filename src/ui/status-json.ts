/**
 * `coffre status --json`: the health report and the facts behind it as one document of the
 * schema in status-schema.ts (documented in docs/status.md). Times are ISO 8601 UTC with
 * their age in seconds next to them, so that a script need not parse dates to compare.
 * @module
 */
import { lastAttempt } from '../status/backup-health.js';
import { redactorFor } from '../status/evaluate.js';
import type { DrillResult, HealthInputs } from '../status/inputs.js';
import type { HealthReport } from '../status/report.js';
import { RPO_WARNING_FRACTION } from '../status/thresholds.js';
import { lastCheck, lastDrill, type Outcome } from '../status/verification-health.js';
import type { StatusDocument } from './status-schema.js';

const isoOf = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());
const secs = (ms: number) => Math.max(0, Math.round(ms / 1000));

export function statusDocument(report: HealthReport, i: HealthInputs): StatusDocument {
  const age = (t: number) => secs(i.now - t);
  const when = (t: number | null | undefined) => (t === null || t === undefined ? null : { at: new Date(t).toISOString(), ageSeconds: age(t) });
  const safe = redactorFor(i);
  const c = i.catalog.available ? i.catalog : null;
  const r = c?.repository;
  const facts = r?.facts ?? null;
  const ok = c?.lastBackupSuccess ?? null;
  const agentBackup = i.agent.running ? i.agent.jobs.backup : undefined;
  const running = c?.backupRunning ?? (i.agent.runningJob?.job === 'backup' ? { started: i.agent.runningJob.since, pid: i.agent.pid } : null);
  const nextBackup = agentBackup?.nextRun ?? null;
  const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((1 - part / whole) * 1000) / 1000 : null);

  return {
    version: 1,
    state: report.state,
    exitCode: report.exitCode,
    summary: report.summary,
    generatedAt: new Date(i.now).toISOString(),
    host: i.host,
    checks: report.verdicts.map((v) => ({ id: v.id, state: v.state, message: v.message })),
    repository: {
      location: i.repository.location,
      id: i.repository.id,
      snapshots: r?.snapshots ?? null,
      packs: r?.packs ?? null,
      storedBytes: r?.storedBytes ?? null,
      logicalBytes: r?.logicalBytes ?? null,
      latestSnapshot: r?.latestSnapshot ? { id: r.latestSnapshot.id, time: new Date(r.latestSnapshot.time).toISOString() } : null,
      recorded: facts && {
        at: new Date(facts.recordedAt).toISOString(),
        ageSeconds: age(facts.recordedAt),
        objectLock: facts.objectLock,
        keyFiles: facts.keyFiles,
        uniqueBytes: facts.uniqueBytes,
        encodedBytes: facts.encodedBytes,
        dedupSavings: r && r.logicalBytes > 0 ? Math.max(0, ratio(facts.uniqueBytes, r.logicalBytes)!) : null,
        compressionSavings: ratio(facts.encodedBytes, facts.uniqueBytes),
      },
    },
    backup: {
      rpoSeconds: secs(i.rpoMs),
      warningAtSeconds: secs(i.rpoMs * RPO_WARNING_FRACTION),
      lastSuccess: ok && {
        started: new Date(ok.started).toISOString(),
        finished: new Date(ok.finished ?? ok.started).toISOString(),
        ageSeconds: age(ok.started),
        result: ok.result === 'incomplete' ? 'incomplete' : 'ok',
        snapshotId: ok.snapshotId,
        durationSeconds: secs((ok.finished ?? ok.started) - ok.started),
        filesNew: ok.filesNew ?? null,
        filesChanged: ok.filesChanged ?? null,
        filesUnmodified: ok.filesUnmodified ?? null,
        bytesRead: ok.bytesRead ?? null,
        bytesAdded: ok.bytesAdded ?? null,
      },
      lastFailure: lastFailure(i, safe),
      running: running && { since: new Date(running.started).toISOString(), pid: running.pid ?? null },
      schedule: i.schedules.backup?.expression ?? null,
      nextRun: isoOf(nextBackup),
      pendingChanges: c?.pending.count ?? i.agent.pending,
      oldestPendingChange: isoOf(c?.pending.oldest),
    },
    sources: i.sources.map((s) => ({
      path: s.path,
      pendingChanges: s.pending,
      inLastBackup: s.inLastBackup,
      lastSuccess: s.inLastBackup !== false && ok ? when(ok.started) : null,
      nextRun: isoOf(nextBackup),
    })),
    check: {
      schedule: i.schedules.check?.expression ?? null,
      nextRun: isoOf(i.agent.running ? i.agent.jobs.check?.nextRun : null),
      last: verification(lastCheck(i), age, safe),
      lastSuccess: when(c?.lastCheckSuccess?.finished),
    },
    drill: {
      schedule: i.schedules.drill?.expression ?? null,
      nextRun: isoOf(i.agent.running ? i.agent.jobs.drill?.nextRun : null),
      last: drillRun(lastDrill(i), c?.lastDrill ?? null, age, safe),
      lastSuccess: c?.lastDrillSuccess ? drillRun({ at: c.lastDrillSuccess.finished, kind: 'ok', message: null }, c.lastDrillSuccess, age, safe) : null,
    },
    agent: {
      expected: i.agentExpected,
      running: i.agent.running,
      pid: i.agent.pid,
      startedAt: isoOf(i.agent.startedAt),
      phase: i.agent.phase,
      updatedAt: isoOf(i.agent.updatedAt),
      runningJob: i.agent.runningJob && { job: i.agent.runningJob.job, since: new Date(i.agent.runningJob.since).toISOString() },
      watcher: i.agent.running ? i.agent.watcher : null,
    },
    catalog: c ? { available: true, file: c.file, reason: null } : { available: false, file: null, reason: i.catalog.available ? null : safe(i.catalog.reason) },
  };
}

/** The newest failure, from the run history or the agent, current until a backup succeeds after it. */
function lastFailure(i: HealthInputs, safe: (m: string) => string): StatusDocument['backup']['lastFailure'] {
  const c = i.catalog.available ? i.catalog : null;
  const attempt = lastAttempt({ i, safe });
  const recorded = c?.lastBackupFailure;
  const current = attempt?.outcome === 'failed' ? attempt : null;
  const at = current?.at ?? recorded?.finished ?? null;
  if (at === null) return null;
  const message = current ? current.error : recorded?.error;
  return {
    at: new Date(at).toISOString(),
    ageSeconds: secs(i.now - at),
    message: safe(message ?? 'no reason recorded'),
    current: current !== null,
    failuresInARow: current ? Math.max(1, current.failures) : 0,
  };
}

function verification(o: Outcome | null, age: (t: number) => number, safe: (m: string) => string): StatusDocument['check']['last'] {
  return o && { at: new Date(o.at).toISOString(), ageSeconds: age(o.at), result: o.kind, message: o.message === null ? null : safe(o.message) };
}

/** A drill's outcome, with the recorded details when the record is that same drill. */
function drillRun(o: Outcome | null, d: DrillResult | null, age: (t: number) => number, safe: (m: string) => string): StatusDocument['drill']['last'] {
  if (!o) return null;
  const same = d !== null && d.finished === o.at ? d : null;
  return {
    ...verification(o, age, safe)!,
    snapshotId: same?.snapshotId ?? null,
    files: same?.files ?? null,
    bytes: same?.bytes ?? null,
    mismatches: same?.mismatches ?? null,
    durationSeconds: same ? secs(same.durationMs) : null,
    rtoEstimateSeconds: same?.rtoEstimateMs ? secs(same.rtoEstimateMs) : null,
  };
}
