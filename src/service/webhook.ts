/**
 * Alert delivery: a JSON POST per transition, in order, each retried with doubling waits
 * until the receiver answers 2xx. A receiver that answers 4xx (other than 408 and 429)
 * refuses the alert as it is: retrying would not change its mind, so it is logged and
 * dropped. Only the URL's origin is ever logged: webhook URLs often carry a token.
 * @module
 */
import type { AlertPayload } from '../status/alert.js';
import { describeError } from '../domain/errors.js';
import type { Logger } from './logger.js';

export interface WebhookOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly retries: number;
  /** first wait between attempts (doubling, at most maxDelayMs) */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export class WebhookNotifier {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly opts: WebhookOptions,
    private readonly log: Logger,
  ) {}

  get origin(): string {
    return new URL(this.opts.url).origin;
  }

  /** Queues an alert behind the ones not delivered yet; resolves when it is delivered or given up. */
  send(payload: AlertPayload): Promise<void> {
    const next = this.queue.then(() => this.deliver(payload));
    this.queue = next;
    return next;
  }

  /** Stops retrying (shutdown): alerts still queued are logged as not sent. */
  close(): void {
    this.closed = true;
    for (const w of this.wakers) w();
  }

  private async deliver(p: AlertPayload): Promise<void> {
    const body = JSON.stringify(p);
    const base = this.opts.baseDelayMs ?? 1000;
    const fields = { webhook: this.origin, state: p.state, previous: p.previous };
    for (let attempt = 0; ; attempt++) {
      if (this.closed) return void this.log.warn({ ...fields, attempts: attempt }, 'alert not sent: the agent is stopping');
      let why: string;
      let final = false;
      try {
        const res = await fetch(this.opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'coffre-agent' },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
          redirect: 'error',
        });
        await res.arrayBuffer().catch(() => undefined); // let the connection be reused
        if (res.ok) return void this.log.info({ ...fields, attempts: attempt + 1 }, `alert sent: ${p.previous} -> ${p.state}`);
        why = `HTTP ${res.status}`;
        final = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      } catch (e) {
        // fetch says "fetch failed"; the cause says what: ECONNREFUSED, a timeout, a TLS error…
        why = describeError((e as { cause?: unknown }).cause ?? e);
      }
      if (final || attempt >= this.opts.retries) {
        return void this.log.error({ ...fields, attempts: attempt + 1, reason: why }, `alert not delivered: ${why}`);
      }
      const delay = Math.min(this.opts.maxDelayMs ?? 300_000, base * 2 ** attempt);
      this.log.warn({ ...fields, attempt: attempt + 1, reason: why, retryInMs: delay }, 'alert delivery failed; retrying');
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      t.unref();
      this.wakers.add(wake);
    });
  }
}
