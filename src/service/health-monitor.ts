/**
 * The agent judging its own health, through the same model as `coffre status`: every
 * `metrics.intervalSeconds`, a few seconds after anything changes (a job ends, a retry is
 * scheduled), and at every scrape. Each judgement updates the Prometheus metrics, rewrites
 * the node_exporter textfile, and, when the overall state moved between OK, WARNING and
 * CRITICAL, posts one alert. The last state alerted is kept in the state directory, so a
 * restart neither repeats an alert nor misses the recovery from it.
 *
 * It reads the catalog through its own read-only connection, as `coffre status` does: what
 * the metrics say is what the catalog holds, at the moment of the scrape.
 * @module
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { gatherHealthInputs, targetFromConfig } from '../app/status-inputs.js';
import type { AgentConfig } from '../config/agent-config.js';
import { splitHostPort } from '../config/monitoring.js';
import { describeError } from '../domain/errors.js';
import { alertPayload, transition, type AlertState } from '../status/alert.js';
import { evaluateHealth } from '../status/evaluate.js';
import type { HealthReport } from '../status/report.js';
import { describeLocation } from '../storage/open-storage.js';
import { agentViewOf } from './agent-view.js';
import { errorFields, type Logger } from './logger.js';
import { AgentMetrics } from './metrics.js';
import { JOB_KINDS, type AgentState, type JobKind } from './state.js';
import { WebhookNotifier } from './webhook.js';

export const ALERT_STATE_FILE = 'alert-state.json';
/** After a change, judge again this much later (changes come in bursts: a job's end, its retry). */
const SETTLE_MS = 1500;

export class HealthMonitor {
  readonly metrics = new AgentMetrics();
  private server: http.Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private webhook: WebhookNotifier | undefined;
  private webhookUrl: string | undefined;
  private lastAlerted: AlertState;
  private readonly seen = new Map<JobKind, string>();
  private textfileWrite: Promise<void> = Promise.resolve();
  private lastProblem: string | undefined;
  private stopped = false;

  constructor(
    private readonly config: () => AgentConfig,
    private readonly stateDir: string,
    private readonly state: AgentState,
    private readonly log: Logger,
  ) {
    this.lastAlerted = readAlertState(path.join(stateDir, ALERT_STATE_FILE));
    this.state.on('change', this.onChange);
  }

  /** Serves the endpoint (if configured) and starts judging. A port that cannot be had is logged, not fatal: backups matter more. */
  async start(): Promise<void> {
    const m = this.config().metrics;
    if (m?.listen) await this.listen(m.listen);
    this.schedule();
    this.judgeSoon(0);
  }

  /** Judges now: metrics, textfile, alert. Never throws. */
  judge(): HealthReport | undefined {
    try {
      const c = this.config();
      const target = targetFromConfig(c, this.stateDir, describeLocation(c.repository));
      const inputs = gatherHealthInputs(target, agentViewOf(this.state.view(), true, Date.now()));
      const report = evaluateHealth(inputs);
      this.metrics.update(inputs, report);
      this.writeTextfile();
      const t = transition(this.lastAlerted, report.state);
      if (t) {
        this.lastAlerted = t.to;
        writeAlertState(path.join(this.stateDir, ALERT_STATE_FILE), t.to);
        this.log[t.to === 'OK' ? 'info' : 'warn']({ health: t.to, previous: t.from, summary: report.summary }, `health ${t.from} -> ${t.to}`);
        void this.notifier()?.send(alertPayload(t, report, inputs));
      }
      this.lastProblem = undefined;
      return report;
    } catch (e) {
      const why = describeError(e);
      if (why !== this.lastProblem) this.log.warn({ error: errorFields(e) }, `health could not be judged: ${why}`);
      this.lastProblem = why;
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state.off('change', this.onChange);
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.webhook?.close();
    await this.textfileWrite;
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private readonly onChange = (): void => {
    this.countErrors();
    this.judgeSoon(SETTLE_MS);
  };

  /** Counts each job run that ended failed or found damage, once. */
  private countErrors(): void {
    const jobs = this.state.view().jobs;
    for (const k of JOB_KINDS) {
      const run = jobs[k].lastRun;
      if (!run || this.seen.get(k) === run.finished) continue;
      this.seen.set(k, run.finished);
      if (run.outcome === 'failed') this.metrics.countError(k, run.error?.kind ?? errorKind(run.error?.code));
      else if (run.outcome === 'problem') this.metrics.countError(k, 'damage');
    }
  }

  private judgeSoon(ms: number): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.judge();
    }, ms);
    this.soon.unref();
  }

  private schedule(): void {
    const every = (this.config().metrics?.intervalSeconds ?? 30) * 1000;
    this.timer = setInterval(() => this.judge(), every);
    this.timer.unref();
  }

  /** The webhook of the current config (a reload may have changed it). */
  private notifier(): WebhookNotifier | undefined {
    const w = this.config().alerts?.webhook;
    if (!w) return undefined;
    const same = this.webhook && this.webhookUrl === w.url;
    if (!same) {
      this.webhook?.close();
      this.webhook = new WebhookNotifier({ url: w.url, timeoutMs: w.timeoutSeconds * 1000, retries: w.retries }, this.log);
      this.webhookUrl = w.url;
    }
    return this.webhook;
  }

  private async listen(address: string): Promise<void> {
    const hp = splitHostPort(address)!;
    const server = http.createServer((req, res) => void this.serve(req, res));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(hp.port, hp.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.log.error({ error: errorFields(e), listen: address }, `metrics endpoint not served: cannot listen on ${address}: ${describeError(e)}`);
      return;
    }
    server.on('error', (e) => this.log.warn({ error: errorFields(e) }, 'metrics endpoint error'));
    this.server = server;
    this.log.info({ listen: address }, `metrics served at http://${address}/metrics`);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url !== '/metrics') {
      res.writeHead(url === '/' ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(url === '/' ? 'coffre agent: metrics at /metrics\n' : 'not found\n');
      return;
    }
    this.judge(); // a scrape sees the catalog as it is now
    try {
      const body = await this.metrics.text();
      res.writeHead(200, { 'content-type': this.metrics.contentType }).end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${describeError(e)}\n`);
    }
  }

  /** node_exporter's textfile collector: whole files only (temporary file in the same directory, then rename). */
  private writeTextfile(): void {
    const file = this.config().metrics?.textfile;
    if (!file) return;
    this.textfileWrite = this.textfileWrite.then(async () => {
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await fs.promises.writeFile(tmp, await this.metrics.text(), { mode: 0o644 });
        await fs.promises.rename(tmp, file);
      } catch (e) {
        await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
        const why = `metrics textfile ${file} not written: ${describeError(e)}`;
        if (why !== this.lastProblem) this.log.warn({ error: errorFields(e) }, why);
        this.lastProblem = why;
      }
    });
  }
}

/** A short label from an error code: COFFRE_WRONG_PASSWORD -> wrong-password. */
function errorKind(code: string | undefined): string {
  return (code ?? 'unexpected').replace(/^COFFRE_/, '').toLowerCase().replace(/_/g, '-');
}

function readAlertState(file: string): AlertState {
  try {
    const s = (JSON.parse(fs.readFileSync(file, 'utf8')) as { state?: unknown }).state;
    return s === 'WARNING' || s === 'CRITICAL' ? s : 'OK';
  } catch {
    return 'OK'; // none yet: a first WARNING or CRITICAL is news
  }
}

function writeAlertState(file: string, state: AlertState): void {
  try {
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify({ state, at: new Date().toISOString() })}\n`, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  } catch {
    // the state directory is unusable: the agent says so elsewhere; at worst an alert repeats after a restart
  }
}
