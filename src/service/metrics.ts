/**
 * The agent's Prometheus metrics (prom-client, in a registry of their own): the same inputs
 * and verdicts `coffre status` shows, as numbers. Values are set from one health evaluation
 * (health-monitor.ts), so that a scrape, the textfile and the status command agree.
 *
 * Conventions: timestamps in seconds since the epoch, 0 when the event never happened (so
 * that `time() - x > …` alerts fire for "never"); enums as state sets (one series per value,
 * 1 for the current one); no label ever holds a file name.
 * @module
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { HealthInputs } from '../status/inputs.js';
import { EXIT_CODE, type HealthReport } from '../status/report.js';
import { lastCheck, lastDrill } from '../status/verification-health.js';

const RESULTS = ['ok', 'damage', 'not-run'] as const;
const sec = (ms: number | null | undefined) => (ms === null || ms === undefined ? 0 : ms / 1000);

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly g;
  private readonly failures: Counter<'job' | 'kind'>;

  constructor() {
    const registers = [this.registry];
    const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name: `coffre_${name}`, help, labelNames: [...labelNames], registers });
    this.g = {
      state: gauge('health_state', 'Overall health as the status exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN'),
      check: gauge('health_check_state', "Each aspect's verdict (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)", ['check']),
      info: gauge('repository_info', 'The repository this agent backs up to (value 1)', ['location', 'id']),
      lastSuccess: gauge('backup_last_success_timestamp_seconds', 'When the last successful backup finished (0: never)'),
      recoveryPoint: gauge('recovery_point_timestamp_seconds', 'When the last successful backup began reading: the recovery point (0: never)'),
      rpo: gauge('rpo_seconds', 'The recovery-point objective'),
      rpoBreached: gauge('rpo_breached', '1 when the recovery point is older than the objective (or none exists past it)'),
      duration: gauge('backup_last_duration_seconds', 'Duration of the last successful backup'),
      files: gauge('backup_last_files', 'Files of the last successful backup, by kind', ['kind']),
      bytes: gauge('backup_last_bytes', 'Bytes read from the sources and added to the repository by the last successful backup', ['kind']),
      failingInARow: gauge('backup_failures_in_a_row', 'Failed backup attempts since the last success'),
      pending: gauge('pending_changes', 'Changed paths waiting for the next backup'),
      checkTime: gauge('check_last_timestamp_seconds', 'When the last check ended (0: never)'),
      checkResult: gauge('check_last_result', 'Result of the last check: ok, damage (found damage), not-run (could not run)', ['result']),
      drillTime: gauge('drill_last_timestamp_seconds', 'When the last restore drill ended (0: never)'),
      drillResult: gauge('drill_last_result', 'Result of the last restore drill', ['result']),
      rto: gauge('drill_rto_estimate_seconds', 'Projected time to restore everything, from the last successful drill (0: unknown)'),
      stored: gauge('repository_stored_bytes', 'Sum of the pack sizes in the repository (as the catalog knows it)'),
      logical: gauge('repository_logical_bytes', "Sum of every snapshot's file sizes"),
      snapshots: gauge('repository_snapshots', 'Snapshots in the repository (as the catalog knows it)'),
      packs: gauge('repository_packs', 'Packs in the repository (as the catalog knows it)'),
      keyFiles: gauge('repository_key_files', 'Key files, at the last contact (see coffre_repository_facts_timestamp_seconds)'),
      unique: gauge('repository_unique_bytes', 'Data stored once each, before compression, at the last contact'),
      encoded: gauge('repository_encoded_bytes', 'The same data compressed and encrypted, at the last contact'),
      factsTime: gauge('repository_facts_timestamp_seconds', 'When key files, Object Lock and sizes were last recorded (0: never)'),
      objectLockDays: gauge('repository_object_lock_days', 'Object Lock retention in days (0: none)', ['mode']),
      agentStart: gauge('agent_start_time_seconds', 'When this agent process started'),
    };
    this.failures = new Counter({
      name: 'coffre_job_errors_total',
      help: 'Jobs that failed (kind: the storage error kind or error code) or found damage (kind="damage"), since the agent started',
      labelNames: ['job', 'kind'],
      registers,
    });
  }

  /** A job ended badly: `kind` is a storage error kind (transient, permission…), an error code, or "damage". */
  countError(job: string, kind: string): void {
    this.failures.inc({ job, kind });
  }

  update(i: HealthInputs, report: HealthReport): void {
    const g = this.g;
    g.state.set(report.exitCode);
    g.check.reset();
    for (const v of report.verdicts) g.check.set({ check: v.id }, EXIT_CODE[v.state]);
    g.info.reset();
    g.info.set({ location: i.repository.location ?? '', id: i.repository.id ?? '' }, 1);
    g.rpo.set(i.rpoMs / 1000);
    g.agentStart.set(sec(i.agent.startedAt));
    g.rpoBreached.set(report.verdicts.some((v) => v.id === 'recovery-point' && v.state === 'CRITICAL') ? 1 : 0);

    const c = i.catalog.available ? i.catalog : null;
    const ok = c?.lastBackupSuccess ?? null;
    g.lastSuccess.set(sec(ok?.finished));
    g.recoveryPoint.set(sec(ok?.started));
    g.duration.set(ok && ok.finished !== null ? (ok.finished - ok.started) / 1000 : 0);
    for (const [kind, n] of [['new', ok?.filesNew], ['changed', ok?.filesChanged], ['unmodified', ok?.filesUnmodified]] as const) g.files.set({ kind }, n ?? 0);
    for (const [kind, n] of [['read', ok?.bytesRead], ['added', ok?.bytesAdded]] as const) g.bytes.set({ kind }, n ?? 0);
    const attempt = c?.lastBackup;
    const liveFailures = i.agent.jobs.backup?.consecutiveFailures ?? 0;
    g.failingInARow.set(Math.max(liveFailures, attempt?.result === 'failed' ? (c?.backupFailuresInARow ?? 0) : 0));
    g.pending.set(c?.pending.count ?? i.agent.pending ?? 0);

    const check = lastCheck(i);
    g.checkTime.set(sec(check?.at));
    for (const r of RESULTS) g.checkResult.set({ result: r }, check?.kind === r ? 1 : 0);
    const drill = lastDrill(i);
    g.drillTime.set(sec(drill?.at));
    for (const r of RESULTS) g.drillResult.set({ result: r }, drill?.kind === r ? 1 : 0);
    g.rto.set(sec(c?.lastDrillSuccess?.rtoEstimateMs));

    const repo = c?.repository;
    g.stored.set(repo?.storedBytes ?? 0);
    g.logical.set(repo?.logicalBytes ?? 0);
    g.snapshots.set(repo?.snapshots ?? 0);
    g.packs.set(repo?.packs ?? 0);
    const f = repo?.facts;
    g.keyFiles.set(f?.keyFiles ?? 0);
    g.unique.set(f?.uniqueBytes ?? 0);
    g.encoded.set(f?.encodedBytes ?? 0);
    g.factsTime.set(sec(f?.recordedAt));
    g.objectLockDays.reset();
    g.objectLockDays.set({ mode: f?.objectLock?.mode ?? 'none' }, f?.objectLock?.days ?? 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
