/**
 * `coffre status` as text: a first line in the Nagios/Icinga plugin format,
 *   COFFRE WARNING - <reasons, worst first> | backup_age=2950s;2880;3600;0 …
 * (the monitoring server shows the text and graphs the performance data after "|"), then
 * the details for a human, one section per subject. Everything comes from the JSON document,
 * so the two forms cannot disagree.
 * @module
 */
import { span } from '../status/words.js';
import { formatBytes } from './format.js';
import type { StatusDocument } from './status-schema.js';

type Doc = StatusDocument;

/** Plugin performance data: label=value[unit];warn;crit;min (Nagios plugin guidelines). */
export function perfdata(d: Doc): string {
  const out: string[] = [];
  const add = (label: string, value: number | null | undefined, unit = '', warn = '', crit = '') => {
    if (value !== null && value !== undefined) out.push(`${label}=${value}${unit};${warn};${crit};0`);
  };
  add('backup_age', d.backup.lastSuccess?.ageSeconds, 's', String(d.backup.warningAtSeconds), String(d.backup.rpoSeconds));
  add('backup_failures', d.backup.lastFailure?.current ? d.backup.lastFailure.failuresInARow : d.catalog.available ? 0 : null, '', '', '0');
  add('pending_changes', d.backup.pendingChanges);
  add('snapshots', d.repository.snapshots);
  add('stored', d.repository.storedBytes, 'B');
  add('check_age', d.check.lastSuccess?.ageSeconds, 's');
  add('drill_age', d.drill.lastSuccess?.ageSeconds, 's');
  add('rto', d.drill.lastSuccess?.rtoEstimateSeconds, 's');
  return out.join(' ');
}

export function nagiosLine(d: Doc): string {
  // "|" starts the performance data; a reason must not contain one.
  const text = d.summary.replace(/\|/g, '/').replace(/\s*\n\s*/g, ' ');
  const perf = perfdata(d);
  return `COFFRE ${d.state} - ${text}${perf ? ` | ${perf}` : ''}`;
}

const ago = (s: number) => `${span(s * 1000)} ago`;
const at = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function renderStatusText(d: Doc): string {
  const lines = [nagiosLine(d)];
  const section = (title: string, ...body: (string | null | false | undefined)[]) => {
    const kept = body.filter((b): b is string => typeof b === 'string' && b.length > 0);
    kept.forEach((b, k) => lines.push(`${k === 0 ? title.padEnd(12) : ' '.repeat(12)}${b}`));
  };
  const r = d.repository;
  const rec = r.recorded;
  section(
    'Repository',
    `${r.location ?? '(unknown location)'}${r.id ? ` (id ${r.id.slice(0, 8)})` : ''}`,
    r.snapshots !== null && `${r.snapshots} snapshot(s), ${formatBytes(r.storedBytes ?? 0)} stored in ${r.packs ?? 0} pack(s); ${formatBytes(r.logicalBytes ?? 0)} in all snapshots`,
    rec
      ? `as of ${at(rec.at)} (${ago(rec.ageSeconds)}): ${[
          rec.dedupSavings !== null && `deduplication saves ${pct(rec.dedupSavings)}`,
          rec.compressionSavings !== null && `compression ${pct(rec.compressionSavings)}`,
          rec.objectLock ? `Object Lock ${rec.objectLock.mode}, ${rec.objectLock.days} days` : 'no Object Lock',
          `${rec.keyFiles} key file(s)`,
        ]
          .filter(Boolean)
          .join(', ')}`
      : d.catalog.available && 'Object Lock, key files, savings: not recorded yet (a backup records them)',
  );
  const b = d.backup;
  const ok = b.lastSuccess;
  section(
    'Backups',
    ok
      ? `last success ${at(ok.started)} (${ago(ok.ageSeconds)})${ok.result === 'incomplete' ? ', incomplete' : ''}: ${ok.filesNew ?? 0} new, ${ok.filesChanged ?? 0} changed, ${ok.filesUnmodified ?? 0} unmodified, ${formatBytes(ok.bytesAdded ?? 0)} added in ${span(ok.durationSeconds * 1000)}`
      : 'no successful backup recorded',
    `objective ${span(b.rpoSeconds * 1000)} (WARNING from ${span(b.warningAtSeconds * 1000)})`,
    b.lastFailure && `last failure ${at(b.lastFailure.at)} (${ago(b.lastFailure.ageSeconds)})${b.lastFailure.current ? '' : ', since recovered'}: ${b.lastFailure.message}`,
    b.running && `running since ${at(b.running.since)}${b.running.pid !== null ? ` (pid ${b.running.pid})` : ''}`,
    [b.nextRun ? `next run ${at(b.nextRun)}` : b.schedule ? `schedule "${b.schedule}" (no agent running)` : null, b.pendingChanges !== null ? `${b.pendingChanges} change(s) waiting` : null]
      .filter(Boolean)
      .join('; '),
  );
  for (const [k, s] of d.sources.entries()) {
    const state = s.inLastBackup === false ? 'not in the last backup' : s.lastSuccess ? `saved ${ago(s.lastSuccess.ageSeconds)}` : 'no backup yet';
    lines.push(`${(k === 0 ? 'Sources' : '').padEnd(12)}${s.path}: ${state}${s.pendingChanges !== null ? `, ${s.pendingChanges} change(s) waiting` : ''}`);
  }
  const verif = (v: Doc['check']['last']) =>
    v && `last ${at(v.at)} (${ago(v.ageSeconds)}): ${v.result === 'ok' ? 'passed' : v.result === 'damage' ? 'DAMAGE FOUND' : 'could not run'}${v.message ? ` (${v.message})` : ''}`;
  const plan = (x: { schedule: string | null; nextRun: string | null }) =>
    x.schedule ? `schedule "${x.schedule}"${x.nextRun ? `, next ${at(x.nextRun)}` : ''}` : null;
  section('Check', verif(d.check.last) ?? 'none recorded', plan(d.check));
  const ds = d.drill.lastSuccess;
  const intact = ds && `${ds.files ?? 0} file(s), ${formatBytes(ds.bytes ?? 0)} restored intact${ds.rtoEstimateSeconds ? `; full restore estimated at ${span(ds.rtoEstimateSeconds * 1000)}` : ''}`;
  const lastIsSuccess = ds !== null && d.drill.last?.at === ds.at;
  section(
    'Drill',
    lastIsSuccess ? `${verif(d.drill.last)}: ${intact}` : (verif(d.drill.last) ?? 'none recorded'),
    !lastIsSuccess && ds && `last passed ${at(ds.at)}: ${intact}`,
    plan(d.drill),
  );
  const a = d.agent;
  section(
    'Agent',
    a.running
      ? `running${a.startedAt ? ` since ${at(a.startedAt)}` : ''} (pid ${a.pid ?? '?'})${a.runningJob ? `, ${a.runningJob.job} in progress since ${at(a.runningJob.since)}` : ''}${a.watcher ? `, watcher ${a.watcher.health}` : ''}`
      : `not running${a.expected ? '' : ' (not expected without --config)'}`,
  );
  section('Catalog', d.catalog.file); // when unavailable, its reason is the first line already
  lines.push('Checks');
  for (const c of d.checks) lines.push(`  ${c.state.padEnd(9)} ${c.id.padEnd(15)} ${c.message}`);
  return `${lines.join('\n')}\n`;
}
