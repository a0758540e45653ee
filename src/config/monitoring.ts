/**
 * The agent config's monitoring keys: `metrics` (Prometheus endpoint and node_exporter
 * textfile) and `alerts` (webhook). Documented in docs/status.md.
 *
 * The metrics endpoint has no authentication, and what it says (backup times, sizes, the
 * repository's location) is for the monitoring system only: it listens on a loopback
 * address unless `allowRemote` says otherwise, explicitly.
 * @module
 */
import * as path from 'node:path';
import { z } from 'zod';

/** HOST:PORT, with IPv6 in brackets: [::1]:9479. */
export function splitHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

/** Only names that cannot reach another machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

export const hostPort = z.string().refine((s) => splitHostPort(s) !== undefined, { message: 'expected HOST:PORT, e.g. 127.0.0.1:9479' });

const positive = z.number().int().positive();

export const metricsSchema = z
  .strictObject({
    /** Prometheus endpoint, e.g. 127.0.0.1:9479 (GET /metrics) */
    listen: hostPort.optional(),
    /** serve on a non-loopback address: the endpoint has no authentication */
    allowRemote: z.boolean().default(false),
    /** node_exporter textfile collector: the same metrics written to this file (atomically) */
    textfile: z
      .string()
      .refine((p) => path.isAbsolute(p), { message: 'expected an absolute path' })
      .refine((p) => p.endsWith('.prom'), { message: 'node_exporter reads only files ending in .prom' })
      .optional(),
    /** how often health is judged again (metrics, textfile, alerts); also after every job */
    intervalSeconds: positive.default(30),
  })
  .refine((m) => m.listen !== undefined || m.textfile !== undefined, { message: 'set listen, textfile, or both' })
  .superRefine((m, ctx) => {
    const hp = m.listen === undefined ? undefined : splitHostPort(m.listen);
    if (hp && !m.allowRemote && !isLoopback(hp.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: `${m.listen} is not a loopback address, and the metrics endpoint has no authentication: use 127.0.0.1, or set metrics.allowRemote to true`,
      });
    }
  });

export const alertsSchema = z.strictObject({
  webhook: z.strictObject({
    /** receives a JSON POST (schema coffre.alert/1) at each transition between OK, WARNING and CRITICAL */
    url: z.url({ protocol: /^https?$/, error: (iss) => (iss.input === undefined ? undefined : 'expected an http:// or https:// URL') }),
    timeoutSeconds: positive.default(10),
    /** attempts after the first, with doubling waits (1 s, 2 s, 4 s… at most 5 min) */
    retries: z.number().int().min(0).default(8),
  }),
});

export type MetricsConfig = z.infer<typeof metricsSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
