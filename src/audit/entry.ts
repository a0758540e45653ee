/**
 * Audit entries: who did what to a repository, when, and how it ended. Each entry names
 * the one before it by hash (a chain: removing, reordering or inserting breaks it) and is
 * sealed with a MAC under a key derived from the repository's id key (editing breaks it).
 *
 * The body is the canonical JSON of every field but `mac`, in the order below; the hash of
 * an entry is SHA-256 of its body, and `mac` = HMAC-SHA-256(macKey, body).
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const AUDIT_ACTIONS = [
  'init',
  'backup',
  'restore',
  'dump',
  'drill',
  'check',
  'forget',
  'prune',
  'key-add',
  'key-remove',
  'key-passwd',
  'anomaly-ack',
  'config',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditResult = 'ok' | 'incomplete' | 'failed';

/** What the command was about: every field optional; paths are pseudonymised (names.ts) unless configured otherwise. */
export interface AuditWhat {
  readonly snapshot?: string;
  readonly paths?: readonly string[];
  readonly counts?: Readonly<Record<string, number>>;
  /** short, free of names and secrets: a key id, a policy, a config digest */
  readonly detail?: string;
}

export interface AuditEntry extends AuditWhat {
  readonly v: 1;
  /** one local log (a state directory's record of one repository); random at its creation */
  readonly chain: string;
  /** 1, 2, 3… within the chain */
  readonly seq: number;
  /** ISO 8601, UTC */
  readonly time: string;
  readonly user: string;
  readonly host: string;
  readonly action: AuditAction;
  readonly result: AuditResult;
  /** error class for a failed command (its code, not its message, which may name files) */
  readonly error?: string;
  /** hash of the previous entry of the chain; 64 zeros for the first */
  readonly prev: string;
  readonly mac: string;
}

export const GENESIS = '0'.repeat(64);

/** The fields in their fixed order, without the MAC. */
export function entryBody(e: Omit<AuditEntry, 'mac'>): string {
  const ordered = {
    v: e.v,
    chain: e.chain,
    seq: e.seq,
    time: e.time,
    user: e.user,
    host: e.host,
    action: e.action,
    result: e.result,
    error: e.error,
    snapshot: e.snapshot,
    paths: e.paths,
    counts: e.counts,
    detail: e.detail,
    prev: e.prev,
  };
  return JSON.stringify(ordered);
}

export function entryHash(e: Omit<AuditEntry, 'mac'>): string {
  return createHash('sha256').update(entryBody(e)).digest('hex');
}

export function seal(e: Omit<AuditEntry, 'mac'>, macKey: Uint8Array): AuditEntry {
  return { ...e, mac: createHmac('sha256', macKey).update(entryBody(e)).digest('hex') };
}

export function macValid(e: AuditEntry, macKey: Uint8Array): boolean {
  if (typeof e.mac !== 'string' || !/^[0-9a-f]{64}$/.test(e.mac)) return false;
  const want = createHmac('sha256', macKey).update(entryBody(e)).digest();
  return timingSafeEqual(want, Buffer.from(e.mac, 'hex'));
}
