// Markdown report for scripts/bench.sh:  node report.mjs RUN_DIR REPORT.md
// Reads RUN_DIR/{meta.tsv, steps.tsv, dataset.json, commands.log} and the GNU `time -v` files named in steps.tsv,
// writes REPORT.md and prints the same text on stdout. Medians over the successful repetitions; all values in brackets.
import fs from 'node:fs';
import path from 'node:path';

const [runDir, outFile] = process.argv.slice(2);
if (!runDir || !outFile) { process.stderr.write('usage: node report.mjs RUN_DIR REPORT.md\n'); process.exit(2); }
const read = (f, dflt = '') => { try { return fs.readFileSync(path.join(runDir, f), 'utf8'); } catch { return dflt; } };

const meta = read('meta.tsv').split('\n').filter(Boolean).map((l) => { const i = l.indexOf('\t'); return [l.slice(0, i), l.slice(i + 1)]; });
const metaGet = (k) => meta.find(([key]) => key === k)?.[1];
const dataset = JSON.parse(read('dataset.json', '{}') || '{}');
const mode = metaGet('mode') || 'suite';
const tools = (metaGet('tools (run order per repetition)') || 'restic borg coffre').split(' ');

// ---- GNU time -v
function parseTime(file) {
  let txt;
  try { txt = fs.readFileSync(file, 'utf8'); } catch { return null; }
  const num = (re) => { const m = txt.match(re); return m ? Number(m[1]) : undefined; };
  const m = txt.match(/Elapsed \(wall clock\) time \([^)]*\):\s*([\d:.]+)/);
  if (!m) return null;
  const wall = m[1].split(':').map(Number).reduce((s, x) => s * 60 + x, 0);
  const user = num(/User time \(seconds\):\s*([\d.]+)/) ?? 0;
  const sys = num(/System time \(seconds\):\s*([\d.]+)/) ?? 0;
  const rssKiB = num(/Maximum resident set size \(kbytes\):\s*(\d+)/);
  return { wall, cpu: user + sys, rss: rssKiB === undefined ? undefined : rssKiB / 1024 };
}

// ---- steps.tsv: tool rep step key value
const runs = {}; // runs[tool][step] = [{rep, status, ...}]
for (const line of read('steps.tsv').split('\n')) {
  if (!line) continue;
  const [tool, rep, step, key, ...rest] = line.split('\t');
  const value = rest.join('\t');
  runs[tool] ??= {};
  runs[tool][step] ??= [];
  let r = runs[tool][step].find((x) => x.rep === +rep);
  if (!r) { r = { rep: +rep }; runs[tool][step].push(r); }
  r[key] = value;
}
for (const t of Object.values(runs)) for (const list of Object.values(t)) for (const r of list) {
  if (r.time) Object.assign(r, parseTime(r.time) ?? {});
  for (const k of ['repo_bytes', 'cache_bytes', 'data_bytes']) r[k] = r[k] === undefined || r[k] === '' ? undefined : Number(r[k]);
}

// ---- helpers
const median = (a) => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : undefined; };
const MiB = 1048576;
const fmt = (x, d) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const esc = (s) => String(s ?? '').replace(/\|/g, '\\|').replace(/</g, '&lt;');
const okRuns = (tool, step) => (runs[tool]?.[step] ?? []).filter((r) => r.status === 'ok');
function stat(tool, step, key, scale = 1) {
  const vals = okRuns(tool, step).map((r) => r[key]).filter((x) => x !== undefined && !Number.isNaN(x)).map((x) => x / scale);
  return vals.length ? { med: median(vals), all: vals } : undefined;
}
function cell(s, d) {
  if (!s) return 'n/a';
  if (s.all.length === 1) return fmt(s.med, d);
  return `**${fmt(s.med, d)}** [${s.all.map((x) => fmt(x, d)).join(', ')}]`;
}
const ratio = (a, b) => (a && b && b.med > 0 ? `${(a.med / b.med).toFixed(2)}x` : 'n/a');
function failureNote(tool, step) {
  const list = runs[tool]?.[step] ?? [];
  const bad = list.filter((r) => r.status !== 'ok');
  if (!bad.length) return '';
  const first = bad.find((r) => r.status !== 'skip') ?? bad[0];
  const what = first.status === 'skip' ? first.note : `${first.status === 'timeout' ? 'timeout' : `exit ${first.rc}`}: ${first.note ?? ''}`;
  return bad.length === list.length ? what : `${bad.length} of ${list.length} runs failed (${what})`;
}

const STEP_INFO = {
  init: ['(1) init', 'create an empty repository (includes the key derivation: restic scrypt, borg PBKDF2, coffre Argon2id)'],
  full: ['(2) first full backup', 'everything is new: read, chunk, hash, compress, encrypt, write'],
  unchanged: ['(3) second backup, nothing changed', 'cost of noticing that nothing changed (metadata scan against the previous snapshot / files cache / catalog)'],
  mutated: ['(4) backup after the mutation', '1 % of the small files rewritten + 32 MiB appended to one large file'],
  restore: ['(5) full restore into an empty directory', 'latest snapshot (the mutated data); then an untimed `diff -r` against the source'],
  check: ['(6) check --read-data', 'read and verify every pack (borg: `check --verify-data`)'],
};
const steps = mode === 'smallfiles' ? ['init', 'full', 'unchanged'] : ['init', 'full', 'unchanged', 'mutated', 'restore', 'check'];
const BACKUP_STEPS = new Set(['full', 'unchanged', 'mutated']);
const others = ['restic', 'borg'].filter((t) => tools.includes(t) && tools.includes('coffre'));

const out = [];
const p = (s = '') => out.push(s);

p(`# Coffre benchmark ${metaGet('run id') ?? ''}: ${mode === 'smallfiles' ? 'small-files mode (unchanged re-backup of 20,000 files)' : `suite, dataset \`${dataset.scale}\``}`);
p();
p(`Each tool ran every step on a fresh repository, ${metaGet('reps')} repetition(s), interleaved in the order ${tools.join(', ')}. ` +
  'Times are from GNU `time -v`: wall = elapsed, CPU = user + sys, RSS = peak resident set. ' +
  'With more than one repetition a cell reads **median** [every run]. MB/s = 10^6 bytes of dataset / median wall. ' +
  'A ratio is coffre ÷ other tool on the medians: below 1.00x coffre is faster / smaller, above 1.00x it costs more. ' +
  'How to read this: docs/benchmarks.md.');
p();

// ---- failure banners
const mismatches = [];
for (const t of tools) for (const r of runs[t]?.restore ?? []) if (r.verify === 'DIFFERENT') mismatches.push(`${t} repetition ${r.rep}: ${r.verify_note ?? ''}`);
if (mismatches.length) {
  p('> **RESTORE MISMATCH — the restored data is NOT identical to the source:**');
  for (const m of mismatches) p(`> - ${esc(m)}`);
  p();
}
const coreFails = [];
for (const t of tools.filter((x) => x !== 'coffre')) for (const s of steps) for (const r of runs[t]?.[s] ?? []) if (r.status !== 'ok' && r.status !== 'skip') coreFails.push(`${t} ${s} r${r.rep}`);
if (coreFails.length) { p(`> **A reference tool failed:** ${coreFails.join(', ')} (see "Failed steps" below).`); p(); }

// ---- summary
p('## Summary (medians)');
p();
{
  const head = ['step', ...tools.map((t) => `${t} wall s`)];
  for (const o of others) head.push(`c/${o[0]} wall`, `c/${o[0]} CPU`, `c/${o[0]} RSS`, `c/${o[0]} repo`);
  p(`| ${head.join(' | ')} |`);
  p(`|${head.map(() => '---').join('|')}|`);
  for (const s of steps) {
    const row = [STEP_INFO[s][0], ...tools.map((t) => { const w = stat(t, s, 'wall'); return w ? fmt(w.med, 2) : 'n/a'; })];
    for (const o of others) {
      row.push(ratio(stat('coffre', s, 'wall'), stat(o, s, 'wall')), ratio(stat('coffre', s, 'cpu'), stat(o, s, 'cpu')), ratio(stat('coffre', s, 'rss'), stat(o, s, 'rss')),
        BACKUP_STEPS.has(s) ? ratio(stat('coffre', s, 'repo_bytes'), stat(o, s, 'repo_bytes')) : '–');
    }
    p(`| ${row.join(' | ')} |`);
  }
  if (others.length) p(`\n${others.map((o) => `c/${o[0]} = coffre/${o}`).join(', ')}.`);
  for (const t of tools) {
    const firstFail = steps.map((s) => (runs[t]?.[s] ?? []).filter((r) => r.status === 'fail' || r.status === 'timeout').map((r) => ({ s, r }))).flat()[0];
    if (firstFail) p(`\n**${t}: n/a where no run succeeded** — first failure: step ${firstFail.s}, repetition ${firstFail.r.rep}: ${esc(firstFail.r.note ?? '')}`);
  }
}
p();

// ---- per-step tables
p('## Per step');
for (const s of steps) {
  p();
  p(`### ${STEP_INFO[s][0]}`);
  p();
  p(`${STEP_INFO[s][1]}.${mode === 'smallfiles' && s === 'unchanged' ? ' **This is the acceptance measurement of the catalog work (restic ≈ 1.2 s on the reference VM).**' : ''}`);
  p();
  p('| tool | wall s | MB/s | CPU s | max RSS MiB | repo MiB | cache/state MiB | notes |');
  p('|---|---|---|---|---|---|---|---|');
  for (const t of tools) {
    const w = stat(t, s, 'wall');
    const fail = failureNote(t, s);
    if (!w) { p(`| ${t} | n/a | n/a | n/a | n/a | n/a | n/a | ${esc(fail || 'not run')} |`); continue; }
    const data = stat(t, s, 'data_bytes');
    const mbs = s !== 'init' && data ? fmt(data.med / 1e6 / w.med, 0) : '–';
    const notes = [];
    if (s === 'restore') {
      const v = (runs[t]?.restore ?? []).filter((r) => r.status === 'ok').map((r) => r.verify ?? 'not verified');
      if (v.length) notes.push(v.every((x) => x === 'identical') ? 'diff -r: identical' : `diff -r: **${v.join(', ')}**`);
    }
    if (fail) notes.push(fail);
    p(`| ${t} | ${cell(w, 2)} | ${mbs} | ${cell(stat(t, s, 'cpu'), 2)} | ${cell(stat(t, s, 'rss'), 0)} | ${BACKUP_STEPS.has(s) ? cell(stat(t, s, 'repo_bytes', MiB), 1) : '–'} | ${BACKUP_STEPS.has(s) ? cell(stat(t, s, 'cache_bytes', MiB), 1) : '–'} | ${esc(notes.join('; '))} |`);
  }
  for (const o of others) {
    const c = (k) => ratio(stat('coffre', s, k), stat(o, s, k));
    p(`| **coffre/${o}** | ${c('wall')} | – | ${c('cpu')} | ${c('rss')} | ${BACKUP_STEPS.has(s) ? c('repo_bytes') : '–'} | ${BACKUP_STEPS.has(s) ? c('cache_bytes') : '–'} | |`);
  }
}
p();

// ---- failures
const fails = [];
for (const t of tools) for (const s of steps) for (const r of runs[t]?.[s] ?? []) if (r.status !== 'ok') fails.push([t, r.rep, s, r.status, r.rc ?? '', r.note ?? '']);
if (fails.length) {
  p('## Failed or skipped steps');
  p();
  p('| tool | rep | step | status | exit | first error line |');
  p('|---|---|---|---|---|---|');
  for (const f of fails) p(`| ${f.slice(0, 5).join(' | ')} | ${esc(f[5])} |`);
  p();
  p(`Full output of each step: \`${runDir}/raw/<tool>.r<rep>.<step>.{out,err,time}\`.`);
  p();
}

// ---- dataset
p('## Dataset');
p();
if (dataset.bytes) {
  const mb = (x) => (x / 1e6).toFixed(1);
  p(`| item | value |`);
  p(`|---|---|`);
  p(`| scale | \`${dataset.scale}\` (${dataset.reused ? 'reused' : `generated in ${dataset.generateSeconds} s`}, generator v${dataset.generatorVersion}) |`);
  p(`| path | \`${metaGet('dataset')?.replace(/^.*\(|\)$/g, '') ?? ''}\` |`);
  p(`| size | ${dataset.bytes.toLocaleString('en-US')} B = ${mb(dataset.bytes)} MB = ${(dataset.bytes / 2 ** 30).toFixed(2)} GiB; ${dataset.files.toLocaleString('en-US')} files in ${dataset.dirs} directories |`);
  p(`| content | ${mb(dataset.textBytes)} MB CSV text, ${mb(dataset.randomBytes)} MB random (incompressible) |`);
  const sp = dataset.spec;
  p(`| layout | ${sp.smallFiles} small CSV files (1–64 KiB, ${sp.perDir} per directory)${sp.medium ? `, ${sp.medium} medium files (1–10 MiB, half text, half random)` : ''}${sp.large ? `, large/L1.bin ${sp.large.size / MiB} MiB random, L2 = L1 with [${sp.large.shiftAt / MiB}, ${sp.large.shiftAt / MiB + 2}) MiB replaced by 3 MiB + 4099 B${sp.large.extra.length ? `, ${sp.large.extra.join(', ')} ${sp.large.size / MiB} MiB random each` : ''}` : ''} |`);
  if (mode !== 'smallfiles') {
    const mut = dataset.mutation;
    p(`| mutation before step (4) | ${mut.smallFilesRewritten} small files rewritten (same sizes, new content)${mut.appendTo ? ` + ${mut.appendBytes / MiB} MiB random appended to ${mut.appendTo}` : ''}; reverted after each tool |`);
  }
}
p();

// ---- machine
p('## Machine and versions');
p();
p('| item | value |');
p('|---|---|');
for (const [k, v] of meta) if (!['run id', 'mode', 'dataset'].includes(k)) p(`| ${esc(k)} | ${esc(v)} |`);
p();

// ---- commands
const cmds = read('commands.log').split('\n');
const firstRep = [];
for (let i = 0; i < cmds.length; i++) if (/^# \S+ r1 /.test(cmds[i])) firstRep.push(cmds[i], cmds[i + 1] ?? '');
if (firstRep.length) {
  p('## Exact commands (repetition 1)');
  p();
  p('Each ran as `/usr/bin/time -v -o FILE timeout --foreground -k 30 $BENCH_TIMEOUT <command>`, stdin from /dev/null, after `sync`. ' +
    'Environment: `RESTIC_PASSWORD_FILE` and `BORG_PASSCOMMAND` read the same 0600 password file; `BORG_BASE_DIR` is the borg cache dir.');
  p();
  p('```');
  for (const l of firstRep) p(l.trimEnd());
  p('```');
}

const text = out.join('\n') + '\n';
fs.writeFileSync(outFile, text);
process.stdout.write(text);
