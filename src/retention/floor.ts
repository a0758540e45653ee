/**
 * Where the retention floor comes from: the administrator's environment
 * (`COFFRE_RETENTION_FLOOR_DAYS`, set in the admin host's profile or service unit) or the
 * agent config (`retention.floorDays`), never a command-line flag — the floor exists to
 * overrule flags. The larger of the two wins.
 * @module
 */
import { ConfigError } from '../domain/errors.js';

export const FLOOR_ENV = 'COFFRE_RETENTION_FLOOR_DAYS';

export function retentionFloorDays(configured: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[FLOOR_ENV];
  let fromEnv = 0;
  if (raw !== undefined && raw !== '') {
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(`${FLOOR_ENV}: expected a number of days >= 0, got "${raw}"`);
    fromEnv = Number(raw);
  }
  return Math.max(fromEnv, configured ?? 0);
}
