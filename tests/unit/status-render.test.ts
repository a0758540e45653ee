/**
 * Rendering the health report: the JSON document against its schema (and docs/ kept equal
 * to it), the Nagios/Icinga first line and its performance data, the metrics as strictly
 * valid Prometheus text — and the strict parser itself, which must refuse what Prometheus
 * would refuse, or the agent's scrape test would prove nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isStatusCall } from '../../src/cli/fast-status.js';
import { AgentMetrics } from '../../src/service/metrics.js';
import { evaluateHealth } from '../../src/status/evaluate.js';
import { statusDocument } from '../../src/ui/status-json.js';
import { statusDocumentSchema } from '../../src/ui/status-schema.js';
import { nagiosLine, renderStatusText } from '../../src/ui/status-text.js';
import { ROOT } from '../helpers/cli.js';
import { parsePrometheusText, valueOf } from '../helpers/prom-text.js';
import { catalog, HOUR, inputs, MIN, NOW, okRun } from '../helpers/status-fixtures.js';

const PERF = /^[a-z_]+=\d+(\.\d+)?(s|B)?;\d*;\d*;0$/;

describe('status rendering', () => {
  it('produces a JSON document of the documented schema, with ages next to times', () => {
    const i = inputs();
    const doc = statusDocument(evaluateHealth(i), i);
    expect(statusDocumentSchema.parse(doc)).toEqual(doc);
    expect(doc.backup.lastSuccess).toMatchObject({ started: '2025-06-01T11:50:00.000Z', ageSeconds: 600, durationSeconds: 30, result: 'ok' });
    expect(doc.backup).toMatchObject({ rpoSeconds: 3600, warningAtSeconds: 2880, pendingChanges: 0 });
    expect(doc.drill.lastSuccess).toMatchObject({ rtoEstimateSeconds: 7200, files: 200 });
  });

  it('docs/status.schema.json is the schema the code checks against (regenerate: node scripts/status-schema.mjs)', () => {
    const onDisk = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/status.schema.json'), 'utf8')) as Record<string, unknown>;
    const { title, ...schema } = onDisk;
    expect(title).toBe('coffre status --json, version 1');
    expect(schema).toEqual(JSON.parse(JSON.stringify(z.toJSONSchema(statusDocumentSchema, { target: 'draft-2020-12' }))));
  });

  it('writes the Nagios plugin first line: state, reasons, performance data', () => {
    const failed = { ...okRun(2 * MIN), result: 'failed' as const, error: 'storage | unreachable' };
    const i = inputs({ catalog: catalog({ lastBackup: failed, backupFailuresInARow: 2, failingSince: NOW - 5 * MIN }) });
    const line = nagiosLine(statusDocument(evaluateHealth(i), i));
    const [text, perf] = line.split(' | ');
    expect(text).toBe('COFFRE CRITICAL - last backup failed 1 min ago (2 in a row since 2025-06-01 11:55 UTC): storage / unreachable');
    const items = perf!.split(' ');
    for (const p of items) expect(p).toMatch(PERF);
    expect(items).toEqual(expect.arrayContaining(['backup_age=600s;2880;3600;0', 'backup_failures=2;;0;0', 'snapshots=10;;;0', 'stored=100000000B;;;0', 'check_age=86400s;;;0', 'rto=7200s;;;0']));
  });

  it('the text form starts with that line and names every subject', () => {
    const i = inputs();
    const text = renderStatusText(statusDocument(evaluateHealth(i), i));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^COFFRE OK - recovery point 10 min old/);
    for (const section of ['Repository', 'Backups', 'Sources', 'Check', 'Drill', 'Agent', 'Catalog', 'Checks']) expect(lines.some((l) => l.startsWith(section))).toBe(true);
  });

  it('metrics from a report parse as strict Prometheus text and carry its values', async () => {
    const i = inputs({ catalog: catalog({ lastBackupSuccess: okRun(2 * HOUR) }) });
    const m = new AgentMetrics();
    m.update(i, evaluateHealth(i));
    m.countError('backup', 'transient');
    const families = parsePrometheusText(await m.text());
    expect(valueOf(families, 'coffre_health_state')).toBe(2);
    expect(valueOf(families, 'coffre_rpo_breached')).toBe(1);
    expect(valueOf(families, 'coffre_recovery_point_timestamp_seconds')).toBe((NOW - 2 * HOUR) / 1000);
    expect(valueOf(families, 'coffre_drill_last_result', { result: 'ok' })).toBe(1);
    expect(valueOf(families, 'coffre_drill_last_result', { result: 'damage' })).toBe(0);
    expect(valueOf(families, 'coffre_job_errors_total', { job: 'backup', kind: 'transient' })).toBe(1);
    expect(valueOf(families, 'coffre_repository_info', { location: 's3:https://s3.example.net/bucket/srv-01' })).toBe(1);
  });
});

describe('the strict Prometheus text parser', () => {
  const ok = '# HELP a_b A thing.\n# TYPE a_b gauge\na_b{x="1",y="q\\"uote\\\\"} 1.5\na_b{x="2"} -Inf\n# TYPE c_total counter\nc_total 3\n';

  it('accepts valid exposition text', () => {
    const f = parsePrometheusText(ok);
    expect(valueOf(f, 'a_b', { y: 'q"uote\\' })).toBe(1.5);
    expect(valueOf(f, 'c_total')).toBe(3);
  });

  it.each([
    ['no newline at the end', ok.trimEnd(), /must end with a newline/],
    ['a sample before its TYPE', 'x 1\n', /before any TYPE/],
    ['a duplicate series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', /duplicate series/],
    ['an unknown escape', '# TYPE a gauge\na{x="\\t"} 1\n', /bad escape/],
    ['an unquoted label value', '# TYPE a gauge\na{x=1} 1\n', /not quoted/],
    ['a bad number', '# TYPE a gauge\na 1,5\n', /not a number|not a sample/],
    ['interleaved families', '# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x="2"} 1\n', /interleaved/],
    ['a bad metric name', '# TYPE 1a gauge\n', /bad metric name/],
    ['a reserved label name', '# TYPE a gauge\na{__x="1"} 1\n', /bad label name/],
  ])('refuses %s', (_what, text, error) => {
    expect(() => parsePrometheusText(text)).toThrow(error);
  });
});

describe('the fast status entry', () => {
  it.each([
    [['status'], true],
    [['status', '--json'], true],
    [['--repo', '/mnt/r', 'status'], true],
    [['-r', 'status', 'snapshots'], false], // "status" is the repository there
    [['--state-dir', '/x', '--debug', 'status'], true],
    [['snapshots', 'status'], false],
    [['help', 'status'], false],
    [[], false],
  ])('%j -> %s', (args, expected) => {
    expect(isStatusCall(['node', 'coffre', ...args])).toBe(expected);
  });
});
