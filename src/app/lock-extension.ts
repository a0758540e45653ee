/**
 * DESIGN invariant 10: with Object Lock, retention follows use. Every later snapshot may
 * reuse any pack a backup can see, so every such object is live: a pack written on day 0
 * and still needed today must not become deletable on day N. What a prune plan has marked
 * for deletion (packs no snapshot used when it was planned, and the index objects it
 * superseded; backups no longer see them) is left out, so that its retention runs out and
 * prune can delete it; a planned pack found needed again leaves the plan and is extended
 * from then on. After a
 * backup, the retention of every object is pushed to now + N days — not after every backup
 * (that would be a GET and maybe a PUT per object each time), but once a quarter of the
 * retention period has passed since the last extension, which keeps at least three quarters
 * of the period ahead of every object at all times.
 * @module
 */
import { AUDIT_PREFIX } from '../audit/trail.js';
import { ACKS_PREFIX } from './anomaly.js';
import type { Catalog } from '../catalog/catalog.js';
import { CONFIG_KEY, DATA_PREFIX, INDEX_PREFIX, indexKey, KEYS_PREFIX, packKey, SNAPSHOTS_PREFIX } from '../repository/layout.js';
import type { Repository } from '../repository/repository.js';
import { Semaphore } from '../util/semaphore.js';

const META_LOCKS_EXTENDED = 'locks_extended_at';
const DAY_MS = 86_400_000;

export interface LockExtension {
  readonly objects: number;
  /** objects left to expire: named by a prune plan */
  readonly skipped: number;
  readonly until: Date;
}

/** Extends the retention of every object of the repository to `now` + the repository's days. */
export async function extendLocks(repo: Repository, opts: { now?: number; concurrency?: number } = {}): Promise<LockExtension | undefined> {
  const lock = repo.config.objectLock;
  const extend = repo.storage.extendRetention?.bind(repo.storage);
  if (!lock || !extend) return undefined;
  const until = new Date((opts.now ?? Date.now()) + lock.days * DAY_MS);
  const slots = new Semaphore(opts.concurrency ?? 8);
  const running: Promise<void>[] = [];
  let objects = 0;
  let skipped = 0;
  const planned = new Set<string>();
  for (const { plan } of await repo.prunePlans()) {
    for (const p of plan.packs) planned.add(packKey(p.id));
    for (const i of plan.indexes) planned.add(indexKey(i));
  }
  const push = (key: string) => {
    if (planned.has(key)) return void skipped++;
    objects++;
    running.push(slots.run(() => extend(key, { mode: lock.mode, until })));
  };
  push(CONFIG_KEY);
  // The audit trail and anomaly acknowledgements stay locked as long as the repository lives.
  for (const prefix of [KEYS_PREFIX, SNAPSHOTS_PREFIX, INDEX_PREFIX, DATA_PREFIX, ACKS_PREFIX, AUDIT_PREFIX]) {
    for await (const o of repo.storage.list(prefix)) push(o.key);
  }
  await Promise.all(running);
  return { objects, skipped, until };
}

/** After a backup: extends every object's retention when a quarter of the period has passed since the last time. */
export async function extendLocksIfDue(repo: Repository, catalog: Catalog, now = Date.now()): Promise<LockExtension | undefined> {
  const lock = repo.config.objectLock;
  if (!lock) return undefined;
  const last = Number(catalog.getMeta(META_LOCKS_EXTENDED) ?? 0);
  if (now - last < (lock.days * DAY_MS) / 4) return undefined;
  const done = await extendLocks(repo, { now });
  if (done) catalog.setMeta(META_LOCKS_EXTENDED, String(now));
  return done;
}
