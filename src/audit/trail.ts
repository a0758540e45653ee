/**
 * The audit trail of one repository, as the library, the CLI and the agent use it:
 * `record` appends a sealed, chained entry to the local log and copies what the repository
 * lacks into it (`audit/`, one side object per entry, FORMAT §14: written once, never
 * rewritten, so Object Lock and no-delete credentials keep them); `verify` checks both
 * copies and each against the other; `list` and `listRepository` read them.
 *
 * Keys: all derive from the id key (Repository.derivedKey), never the data key, so that a
 * write-only agent, which holds no data key, still keeps a verifiable trail:
 * `audit-mac` seals entries, `audit-names` pseudonymises paths, `audit` seals the
 * repository copies.
 * @module
 */
import * as path from 'node:path';
import { hostname, userInfo } from 'node:os';
import { describeError, type CoffreError } from '../domain/errors.js';
import type { Repository } from '../repository/repository.js';
import { getSideObject, listSideObjects, putSideObject } from '../repository/side-objects.js';
import type { AuditAction, AuditEntry, AuditResult, AuditWhat } from './entry.js';
import { AuditLog } from './log.js';
import { pseudonymise } from './names.js';
import { compareCopies, verifyChain, verifyLocal } from './verify.js';
import { byCodeUnits } from '../util/order.js';

export const AUDIT_PREFIX = 'audit/';
const PURPOSE = 'audit';

export interface AuditOptions {
  /** the state directory; the log goes to `<stateDir>/audit/` */
  readonly stateDir: string;
  /** record paths in clear (default: pseudonymised) */
  readonly clearNames?: boolean;
  /** false: do not try to copy into the repository now (read-only storage); the next writer does */
  readonly upload?: boolean;
  readonly notice?: (message: string) => void;
}

export interface AuditVerification {
  readonly problems: readonly string[];
  readonly localEntries: number;
  readonly repositoryEntries: number;
  readonly chains: number;
}

/** COFFRE_AUDIT_NAMES=clear: paths in clear in the audit trail (default: pseudonymised). */
export function clearNamesFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.COFFRE_AUDIT_NAMES === 'clear';
}

export class AuditTrail {
  readonly log: AuditLog;
  private readonly macKey: Buffer;
  private readonly namesKey: Buffer;

  constructor(
    private readonly repo: Repository,
    private readonly opts: AuditOptions,
  ) {
    this.log = new AuditLog(path.join(opts.stateDir, 'audit'), repo.config.id);
    this.macKey = repo.derivedKey('audit-mac');
    this.namesKey = repo.derivedKey('audit-names');
  }

  /** Records one command; then copies what the repository copy lacks (failures are said, not thrown). */
  async record(action: AuditAction, what: AuditWhat, result: AuditResult, error?: unknown): Promise<AuditEntry> {
    const entry = this.log.append(
      {
        time: new Date().toISOString(),
        user: safeUser(),
        host: hostname(),
        action,
        result,
        ...(error !== undefined ? { error: errorCode(error) } : {}),
        ...(what.snapshot ? { snapshot: what.snapshot } : {}),
        ...(what.paths ? { paths: pseudonymise(this.namesKey, what.paths, this.opts.clearNames === true) } : {}),
        ...(what.counts ? { counts: what.counts } : {}),
        ...(what.detail ? { detail: what.detail } : {}),
      },
      this.macKey,
    );
    // A failed command may have failed because of the storage: its entry waits for the next
    // command that writes, rather than retrying against a storage that is down and saying so twice.
    if (this.opts.upload !== false && result !== 'failed') {
      await this.upload().catch((e: unknown) =>
        this.opts.notice?.(`audit entry ${entry.seq} kept locally; it goes to the repository with the next command that can write (${describeError(e)})`),
      );
    }
    return entry;
  }

  /** Copies the local entries the repository does not have yet; returns how many. */
  async upload(): Promise<number> {
    const from = this.log.uploadedSeq();
    const todo = this.log.entriesAfter(from);
    for (const e of todo) {
      await putSideObject(this.repo, AUDIT_PREFIX, PURPOSE, e);
      this.log.setUploaded(e.seq);
    }
    return todo.length;
  }

  localEntries(): AuditEntry[] {
    return this.log.read().flatMap((l) => ('entry' in l ? [l.entry] : []));
  }

  /** Every chain's entries in the repository, by time then chain and sequence. */
  async repositoryEntries(): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for (const id of await listSideObjects(this.repo, AUDIT_PREFIX)) out.push(await getSideObject<AuditEntry>(this.repo, AUDIT_PREFIX, PURPOSE, id));
    return out.sort((a, b) => byCodeUnits(a.time, b.time) || byCodeUnits(a.chain, b.chain) || a.seq - b.seq);
  }

  /** Checks the local log, every chain of the repository copy, and the two against each other. */
  async verify(): Promise<AuditVerification> {
    const problems = verifyLocal(this.log.read(), this.log.head(), this.macKey, 'local log');
    const local = this.localEntries();
    const remote: AuditEntry[] = [];
    for (const id of await listSideObjects(this.repo, AUDIT_PREFIX)) {
      try {
        remote.push(await getSideObject<AuditEntry>(this.repo, AUDIT_PREFIX, PURPOSE, id));
      } catch (e) {
        problems.push(`repository copy: ${describeError(e)}`);
      }
    }
    const chains = new Map<string, AuditEntry[]>();
    for (const e of remote) chains.set(e.chain, [...(chains.get(e.chain) ?? []), e]);
    for (const [chain, entries] of chains) {
      // The same entry stored twice (an upload repeated after a crash) is one entry.
      const unique = [...new Map(entries.map((e) => [`${e.seq}:${e.mac}`, e])).values()].sort((a, b) => a.seq - b.seq);
      problems.push(...verifyChain(unique, this.macKey, `repository copy (chain ${chain})`));
    }
    const mine = local[0]?.chain ?? this.log.head()?.chain;
    if (mine) problems.push(...compareCopies(local, chains.get(mine) ?? [], this.log.uploadedSeq()));
    return { problems, localEntries: local.length, repositoryEntries: remote.length, chains: chains.size };
  }
}

function errorCode(e: unknown): string {
  const code = (e as Partial<CoffreError> | undefined)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'error';
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}
