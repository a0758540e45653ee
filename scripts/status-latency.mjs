#!/usr/bin/env node
// How long `coffre status` takes, wall clock, as a monitoring check runs it: the whole CLI
// process, against a catalog of a realistic size (FILES files backed up by the agent), once
// with the agent idle and once while it runs a large backup. Also `coffre --version` (the
// CLI's start-up alone) and `node -e 0`, to tell the status's own work from Node's start.
//   npm run build && node scripts/status-latency.mjs [FILES=20000] [RUNS=15]
// Keeps nothing: the temporary directory is removed at the end.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = Number(process.argv[2] ?? 20000);
const RUNS = Number(process.argv[3] ?? 15);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/coffre.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffre-status-latency-'));
const src = path.join(dir, 'src');
const state = path.join(dir, 'state');
const repo = path.join(dir, 'repo');
const pw = path.join(dir, 'pw');
const env = { ...process.env, COFFRE_STATE_DIR: state };

// CPU time (user + system) too, when GNU time is there: wall time on a busy machine says
// as much about the other processes as about this one.
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function timeIt(args) {
  const t = process.hrtime.bigint();
  const r = GNU_TIME
    ? spawnSync(GNU_TIME, ['-f', 'cpu %U %S', process.execPath, ...args], { env, encoding: 'utf8' })
    : spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  return { ms, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN, code: r.status, out: r.stdout, err: r.stderr };
}

function stats(label, rs) {
  const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(0);
  const wall = rs.map((r) => r.ms);
  const cpu = rs.map((r) => r.cpuMs);
  console.log(
    `${label.padEnd(44)} wall median ${q(wall, 0.5)} ms, p90 ${q(wall, 0.9)} ms, max ${Math.max(...wall).toFixed(0)} ms; cpu median ${q(cpu, 0.5)} ms (n=${rs.length})`,
  );
}

function measure(label, args, check) {
  const rs = [];
  for (let k = 0; k < RUNS; k++) {
    const r = timeIt(args);
    if (check) check(r);
    rs.push(r);
  }
  stats(label, rs);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let agent;

try {
  fs.writeFileSync(pw, 'latency test\n', { mode: 0o600 });
  for (let i = 0; i < FILES; i++) {
    const d = path.join(src, `dir-${String(i % 200).padStart(3, '0')}`);
    if (i < 200) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `patient-${i}.csv`), `${i},${randomBytes(600).toString('base64')}\n`);
  }
  execFileSync(process.execPath, [BIN, 'init', '--repo', repo, '--password-file', pw, '--kdf', 'interactive'], { env, stdio: 'ignore' });
  const config = path.join(dir, 'agent.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      repository: repo,
      passwordFile: pw,
      stateDir: state,
      sources: [{ path: src }],
      schedule: { backup: '*/5 * * * * *', check: '0 3 * * *', drill: '0 4 * * 0' },
      watch: { debounceMs: 500, settleSeconds: 1, maxSettleSeconds: 5 },
    }),
  );
  agent = spawn(process.execPath, [BIN, 'agent', '--config', config], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  agent.stdout.on('data', (d) => (log += d));
  const waitLog = async (re, from = 0) => {
    while (!re.test(log.slice(from))) await sleep(200);
  };
  const t0 = Date.now();
  await waitLog(/"job":"backup".*"outcome":"(ok|incomplete)"/);
  const catalog = fs.readdirSync(state).find((f) => f.endsWith('.sqlite'));
  const size = fs.statSync(path.join(state, catalog)).size + (fs.statSync(path.join(state, `${catalog}-wal`), { throwIfNoEntry: false })?.size ?? 0);
  console.log(`${FILES} files backed up by the agent in ${((Date.now() - t0) / 1000).toFixed(1)} s; catalog ${(size / 1048576).toFixed(1)} MiB; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${os.cpus().length} CPU(s)`);

  measure('node -e 0 (Node start-up alone)', ['-e', '0']);
  measure('coffre --version (CLI start-up)', [BIN, '--version']);
  const ok = (r) => {
    if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.out}${r.err}`);
  };
  measure('coffre status --config (agent idle)', [BIN, 'status', '--config', config], ok);
  measure('coffre status --json --config (agent idle)', [BIN, 'status', '--json', '--config', config], ok);

  // A large backup: 48 new files of 16 MiB, incompressible.
  const big = path.join(src, 'big');
  fs.mkdirSync(big);
  for (let i = 0; i < 48; i++) fs.writeFileSync(path.join(big, `scan-${i}.bin`), randomBytes(16 << 20));
  const from = log.length;
  let running = false;
  for (let k = 0; k < 300 && !running; k++) {
    const r = timeIt([BIN, 'status', '--json', '--config', config]);
    running = JSON.parse(r.out).backup.running !== null;
    if (!running) await sleep(100);
  }
  if (!running) throw new Error('the large backup was not seen running');
  const during = [];
  while (!/"job":"backup".*"outcome":"(ok|incomplete)"/.test(log.slice(from)) && during.length < RUNS * 4) {
    const r = timeIt([BIN, 'status', '--config', config]);
    if (r.code !== 0 && r.code !== 1) throw new Error(`status exited ${r.code}: ${r.out}`);
    during.push(r);
  }
  stats('coffre status --config (agent backing up)', during);
} finally {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.on('close', r));
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
