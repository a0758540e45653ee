/**
 * The health model as pure functions, clock injected: each rule of the overall state, the
 * precedence between them, what the reasons say, and what they must never say.
 */
import { describe, expect, it } from 'vitest';
import { alertPayload, transition } from '../../src/status/alert.js';
import { evaluateHealth } from '../../src/status/evaluate.js';
import type { BackupRun } from '../../src/status/inputs.js';
import { redact } from '../../src/status/redact.js';
import { worst } from '../../src/status/report.js';
import { catalog, DAY, drill, HOUR, inputs, MIN, NOW, okRun, runningAgent, stoppedAgent } from '../helpers/status-fixtures.js';

const verdict = (r: ReturnType<typeof evaluateHealth>, id: string) => r.verdicts.find((v) => v.id === id);

describe('health model', () => {
  it('is OK with a recent backup, a recent check and drill, and the agent running', () => {
    const r = evaluateHealth(inputs());
    expect(r.state).toBe('OK');
    expect(r.exitCode).toBe(0);
    expect(r.summary).toBe('recovery point 10 min old (2025-06-01 11:50 UTC), objective 60 min');
    expect(verdict(r, 'drill')?.message).toBe('last restore drill 2 days 23 h ago: 200 files restored intact; a full restore would take about 2 h');
  });

  it('warns at 80% of the recovery-point objective and is CRITICAL once it is missed', () => {
    const at = (ago: number) => evaluateHealth(inputs({ catalog: catalog({ lastBackup: okRun(ago), lastBackupSuccess: okRun(ago) }) }));
    expect(at(47 * MIN).state).toBe('OK');
    const w = at(48 * MIN);
    expect(w.state).toBe('WARNING');
    expect(w.exitCode).toBe(1);
    expect(w.summary).toBe('recovery point 48 min old (2025-06-01 11:12 UTC), objective 60 min: 80% of it used');
    const c = at(HOUR + 5 * MIN);
    expect(c.state).toBe('CRITICAL');
    expect(c.exitCode).toBe(2);
    expect(c.summary).toContain('recovery point 65 min old');
    expect(c.summary).toContain(': missed');
  });

  it('measures the recovery point from the start of the backup, not its end', () => {
    // Started 61 min ago, took 20 min: the data in it is 61 min old.
    const long = okRun(61 * MIN, { finished: NOW - 41 * MIN });
    expect(evaluateHealth(inputs({ catalog: catalog({ lastBackup: long, lastBackupSuccess: long }) })).state).toBe('CRITICAL');
  });

  it('is CRITICAL when the last backup failed, with its reason, even within the objective', () => {
    const failed: BackupRun = { ...okRun(2 * MIN), result: 'failed', snapshotId: null, error: 'storage: connect ECONNREFUSED 10.0.0.5:443' };
    const r = evaluateHealth(inputs({ catalog: catalog({ lastBackup: failed, backupFailuresInARow: 3, failingSince: NOW - 40 * MIN }) }));
    expect(r.state).toBe('CRITICAL');
    expect(verdict(r, 'recovery-point')?.state).toBe('OK');
    expect(verdict(r, 'last-backup')?.message).toBe('last backup failed 1 min ago (3 in a row since 2025-06-01 11:20 UTC): storage: connect ECONNREFUSED 10.0.0.5:443');
  });

  it('takes failures the run history never saw from the agent (the repository could not even be opened)', () => {
    const agent = runningAgent({
      jobs: {
        backup: {
          lastRun: { finished: NOW - MIN, outcome: 'failed', error: { code: 'COFFRE_STORAGE', kind: 'transient', message: 'storage unreachable: s3.example.net' } },
          nextRun: NOW + 14 * MIN,
          retryAt: NOW + 30_000,
          consecutiveFailures: 2,
        },
      },
    });
    const r = evaluateHealth(inputs({ agent }));
    expect(r.state).toBe('CRITICAL');
    expect(verdict(r, 'last-backup')?.message).toBe('last backup failed 1 min ago (2 in a row): storage unreachable: s3.example.net; next attempt 2025-06-01 12:00 UTC');
  });

  it('a success newer than a failure clears it', () => {
    const agent = runningAgent({
      jobs: { backup: { lastRun: { finished: NOW - HOUR, outcome: 'failed', error: { code: 'X', message: 'down' } }, nextRun: null, retryAt: null, consecutiveFailures: 1 } },
    });
    expect(evaluateHealth(inputs({ agent })).state).toBe('OK');
  });

  it('warns about a backup that left files out, without naming them', () => {
    const inc = okRun(5 * MIN, { result: 'incomplete' });
    const r = evaluateHealth(inputs({ catalog: catalog({ lastBackup: inc, lastBackupSuccess: inc }) }));
    expect(r.state).toBe('WARNING');
    expect(verdict(r, 'last-backup')?.message).toMatch(/left out files it could not read/);
  });

  it('is UNKNOWN without a catalog, saying why, and when no backup has completed yet', () => {
    const none = evaluateHealth(inputs({ catalog: { available: false, reason: 'no catalog of this repository in /var/lib/coffre: no backup has run on this machine yet', fresh: true } }));
    expect(none.state).toBe('UNKNOWN');
    expect(none.exitCode).toBe(3);
    expect(none.summary).toContain('no backup has run on this machine yet');

    const fresh = catalog({ lastBackup: null, lastBackupSuccess: null, firstRun: NOW - 5 * MIN, lastCheck: null, lastCheckSuccess: null, lastDrill: null, lastDrillSuccess: null });
    const r = evaluateHealth(inputs({ catalog: fresh, agent: runningAgent({ startedAt: NOW - 5 * MIN, runningJob: { job: 'backup', since: NOW - MIN } }) }));
    expect(r.state).toBe('UNKNOWN');
    expect(verdict(r, 'recovery-point')?.message).toBe('no backup has completed yet: a backup is running since 2025-06-01 11:59 UTC');
  });

  it('is CRITICAL when no backup has completed within the objective since backups began', () => {
    const never = catalog({ lastBackup: null, lastBackupSuccess: null, firstRun: NOW - 2 * HOUR });
    const r = evaluateHealth(inputs({ catalog: never }));
    expect(r.state).toBe('CRITICAL');
    expect(r.summary).toContain('no backup has completed since 2025-06-01 10:00 UTC (2 h), objective 60 min');
  });

  it('is CRITICAL when a check found damage, WARNING when it could not run', () => {
    const damaged = catalog({ lastCheck: { started: NOW - 2 * HOUR, finished: NOW - HOUR, result: 'failed', error: 'damage found', damage: true } });
    expect(evaluateHealth(inputs({ catalog: damaged })).state).toBe('CRITICAL');
    const notRun = catalog({ lastCheck: { started: NOW - 2 * HOUR, finished: NOW - HOUR, result: 'failed', error: 'storage unreachable', damage: false } });
    const r = evaluateHealth(inputs({ catalog: notRun }));
    expect(r.state).toBe('WARNING');
    expect(verdict(r, 'check')?.message).toBe('the check 60 min ago could not run: storage unreachable');
  });

  it('is CRITICAL when the last drill failed; a later successful one clears it', () => {
    const failed = drill({ result: 'failed', mismatches: 2, damage: true, finished: NOW - HOUR });
    let r = evaluateHealth(inputs({ catalog: catalog({ lastDrill: failed }) }));
    expect(r.state).toBe('CRITICAL');
    expect(verdict(r, 'drill')?.message).toBe('the restore drill 60 min ago failed: 2 files did not restore identically');
    const agent = runningAgent({ jobs: { drill: { lastRun: { finished: NOW - MIN, outcome: 'ok' }, nextRun: null, retryAt: null, consecutiveFailures: 0 } } });
    r = evaluateHealth(inputs({ catalog: catalog({ lastDrill: failed }), agent }));
    expect(verdict(r, 'drill')?.state).toBe('OK');
  });

  it('a drill stopped by the storage is a WARNING (it could not run), not damage', () => {
    const stopped = drill({ result: 'failed', mismatches: 0, error: 'storage unreachable', finished: NOW - HOUR });
    const r = evaluateHealth(inputs({ catalog: catalog({ lastDrill: stopped }) }));
    expect(verdict(r, 'drill')).toMatchObject({ state: 'WARNING', message: 'the restore drill 60 min ago could not run: storage unreachable' });
  });

  it('warns when a check or drill is older than its schedule allows, or not scheduled at all', () => {
    const late = catalog({ lastCheckSuccess: { started: 0, finished: NOW - 2 * DAY, result: 'ok', error: null, damage: false }, lastCheck: null });
    let r = evaluateHealth(inputs({ catalog: late }));
    expect(r.state).toBe('WARNING');
    expect(verdict(r, 'check')?.message).toBe('last successful check 2 days ago, but schedule.check is "0 3 * * *" (every 24 h at most)');
    r = evaluateHealth(inputs({ schedules: { ...inputs().schedules, drill: null } }));
    expect(verdict(r, 'drill')).toMatchObject({ state: 'WARNING', message: expect.stringContaining('no drill is scheduled (schedule.drill)') });
    // Without a config the schedules are unknown: nothing is late.
    r = evaluateHealth(inputs({ catalog: late, schedules: {}, agentExpected: false }));
    expect(verdict(r, 'check')?.state).toBe('OK');
  });

  it('warns when the agent is expected but not running, and tells a clean stop from a crash', () => {
    let r = evaluateHealth(inputs({ agent: { ...stoppedAgent, phase: 'stopped', updatedAt: NOW - HOUR } }));
    expect(r.state).toBe('WARNING');
    expect(verdict(r, 'agent')?.message).toBe('the agent is not running: it stopped at 2025-06-01 11:00 UTC; no backup happens until it is started');
    r = evaluateHealth(inputs({ agent: { ...stoppedAgent, phase: 'running', updatedAt: NOW - HOUR } }));
    expect(verdict(r, 'agent')?.message).toContain('ended without stopping');
    r = evaluateHealth(inputs({ agent: stoppedAgent, agentExpected: false }));
    expect(r.state).toBe('OK');
  });

  it('warns when watching is degraded; an anomaly is CRITICAL', () => {
    let r = evaluateHealth(inputs({ agent: runningAgent({ watcher: { health: 'degraded', message: 'inotify watch limit reached' } }) }));
    expect(r.state).toBe('WARNING');
    expect(r.summary).toContain('inotify watch limit reached');
    r = evaluateHealth(inputs({ agent: runningAgent({ anomaly: { at: NOW - MIN, message: '4000 files rewritten, content incompressible' } }) }));
    expect(r.state).toBe('CRITICAL');
  });

  it('orders the summary worst first', () => {
    const failed: BackupRun = { ...okRun(2 * MIN), result: 'failed', error: 'down' };
    const r = evaluateHealth(inputs({ catalog: catalog({ lastBackup: failed }), agent: runningAgent({ watcher: { health: 'degraded', message: null } }) }));
    expect(r.summary.indexOf('last backup failed')).toBeLessThan(r.summary.indexOf('watching the sources degraded'));
  });

  it('warns about a source the last backup did not save', () => {
    const r = evaluateHealth(inputs({ sources: [{ path: '/srv/identites', pending: 0, inLastBackup: true }, { path: '/srv/new', pending: 0, inLastBackup: false }] }));
    expect(r.state).toBe('WARNING');
    expect(verdict(r, 'sources')?.message).toBe('not in the last backup yet (added to the config since?): /srv/new');
  });

  it('never lets a file name below a source root into a reason', () => {
    const failed: BackupRun = { ...okRun(2 * MIN), result: 'failed', error: "EACCES: permission denied, open '/srv/identites/service-a/DUPONT Jean.csv'" };
    const r = evaluateHealth(inputs({ catalog: catalog({ lastBackup: failed }) }));
    expect(r.summary).not.toContain('DUPONT');
    expect(r.summary).toContain("open '/srv/identites/…'");
  });

  it('UNKNOWN outranks WARNING, CRITICAL outranks everything', () => {
    expect(worst(['OK', 'WARNING', 'UNKNOWN'])).toBe('UNKNOWN');
    expect(worst(['UNKNOWN', 'CRITICAL', 'WARNING'])).toBe('CRITICAL');
    expect(worst([])).toBe('OK');
  });
});

describe('redaction', () => {
  const safe = { roots: ['/srv/identites', '/home/data'], containers: ['/var/lib/coffre', '/mnt/backup/repo'] };
  it.each([
    ['cannot read /srv/identites/a/MARTIN Paul.csv: EACCES', 'cannot read /srv/identites/…: EACCES'],
    ['open "/etc/secret dir/x"', 'open "<path>"'],
    ['object /mnt/backup/repo/data/ab/abcdef is truncated', 'object /mnt/backup/repo/data/ab/abcdef is truncated'],
    ['source /srv/identites is not readable', 'source /srv/identites is not readable'],
    ['s3:https://s3.example.net/bucket/prefix unreachable', 's3:https://s3.example.net/bucket/prefix unreachable'],
    ['ENOSPC on /var/lib/coffre/ab.sqlite-wal', 'ENOSPC on /var/lib/coffre/ab.sqlite-wal'],
    ['/tmp/x/y, and more', '<path>, and more'],
  ])('%s', (input, output) => {
    expect(redact(input, safe)).toBe(output);
  });
});

describe('alert transitions', () => {
  it('alerts on moves between OK, WARNING and CRITICAL only', () => {
    expect(transition('OK', 'WARNING')).toEqual({ from: 'OK', to: 'WARNING' });
    expect(transition('WARNING', 'CRITICAL')).toEqual({ from: 'WARNING', to: 'CRITICAL' });
    expect(transition('CRITICAL', 'OK')).toEqual({ from: 'CRITICAL', to: 'OK' });
    expect(transition('OK', 'OK')).toBeNull();
    expect(transition('CRITICAL', 'UNKNOWN')).toBeNull();
  });

  it('a payload carries the reasons, not the paths below the sources', () => {
    const failed: BackupRun = { ...okRun(2 * MIN), result: 'failed', error: 'cannot read /srv/identites/x/Y Z.csv: EIO' };
    const i = inputs({ catalog: catalog({ lastBackup: failed }) });
    const r = evaluateHealth(i);
    const p = alertPayload({ from: 'OK', to: 'CRITICAL' }, r, i);
    expect(p).toMatchObject({ schema: 'coffre.alert/1', state: 'CRITICAL', previous: 'OK', host: 'srv-01', at: '2025-06-01T12:00:00.000Z' });
    expect(p.reasons).toEqual([{ check: 'last-backup', state: 'CRITICAL', message: 'last backup failed 1 min ago: cannot read /srv/identites/…: EIO' }]);
    expect(JSON.stringify(p)).not.toContain('Y Z.csv');
  });
});
