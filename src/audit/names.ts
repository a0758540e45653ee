/**
 * Paths in audit entries are pseudonymised by default: a file name can be a patient's name,
 * and the audit trail is read by more people (auditors, the SOC) than the backups are. A
 * pseudonym is a keyed hash, stable for one repository, so that an auditor can see that two
 * entries concern the same path — and an admin holding the keys can check a given path
 * (`pseudonym(key, "/srv/x")`) — without the trail naming it.
 * @module
 */
import { createHmac } from 'node:crypto';

export function pseudonym(key: Uint8Array, p: string): string {
  return `~${createHmac('sha256', key).update(p, 'utf8').digest('hex').slice(0, 20)}`;
}

export function pseudonymise(key: Uint8Array, paths: readonly string[] | undefined, clear: boolean): string[] | undefined {
  if (!paths) return undefined;
  return clear ? [...paths] : paths.map((p) => pseudonym(key, p));
}
