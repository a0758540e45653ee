/**
 * Alerts on transitions: when the overall state moves between OK, WARNING and CRITICAL,
 * one alert says so. UNKNOWN moves nothing: it means "cannot tell yet" (an agent starting
 * on a fresh install, a catalog being created), which `coffre status` shows but which is no
 * news to wake anyone for; the next known state is compared with the last one alerted.
 *
 * The payload carries states, times and the verdicts' one-line reasons, which are already
 * free of paths below the source roots (redact.ts); never file names, keys or credentials.
 * @module
 */
import type { HealthInputs } from './inputs.js';
import type { HealthReport, HealthState } from './report.js';

export type AlertState = Exclude<HealthState, 'UNKNOWN'>;

export interface Transition {
  readonly from: AlertState;
  readonly to: AlertState;
}

export function transition(lastAlerted: AlertState, current: HealthState): Transition | null {
  if (current === 'UNKNOWN' || current === lastAlerted) return null;
  return { from: lastAlerted, to: current };
}

export const ALERT_SCHEMA = 'coffre.alert/1';

export interface AlertPayload {
  readonly schema: typeof ALERT_SCHEMA;
  readonly state: AlertState;
  readonly previous: AlertState;
  /** ISO 8601, UTC */
  readonly at: string;
  readonly host: string;
  readonly repository: string | null;
  readonly summary: string;
  readonly reasons: readonly { readonly check: string; readonly state: HealthState; readonly message: string }[];
}

export function alertPayload(t: Transition, report: HealthReport, i: HealthInputs): AlertPayload {
  return {
    schema: ALERT_SCHEMA,
    state: t.to,
    previous: t.from,
    at: new Date(i.now).toISOString(),
    host: i.host,
    repository: i.repository.location,
    summary: report.summary,
    reasons: report.verdicts.filter((v) => v.state !== 'OK').map((v) => ({ check: v.id, state: v.state, message: v.message })),
  };
}
