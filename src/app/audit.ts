/**
 * The audit trail hooked into the library: every command that opens a repository through
 * `withRepository` with an `audit` spec, and every agent job, is recorded — when, which OS
 * user and host, what (snapshot, paths, counts), and how it ended — whatever the outcome.
 * Recording never changes a command's outcome: a trail that cannot be written is said
 * (notice), and the command's own result or error stands.
 * @module
 */
import type { AuditAction, AuditResult, AuditWhat } from '../audit/entry.js';
import { AuditTrail, clearNamesFromEnv } from '../audit/trail.js';
import { describeError } from '../domain/errors.js';
import type { Repository } from '../repository/repository.js';
import { resolveStateDir } from './state-dir.js';

export interface AuditSpec<T = unknown> {
  readonly action: AuditAction;
  /** what is known before the command runs */
  readonly what?: AuditWhat;
  /** what the result adds (snapshot, counts), and whether it was complete */
  readonly after?: (result: T) => AuditWhat & { readonly result?: AuditResult };
}

export interface AuditContext {
  readonly stateDir?: string;
  /** read-only storage (check, drill): the copy into the repository waits for the next writer */
  readonly readOnly?: boolean;
  readonly clearNames?: boolean;
  readonly notice?: (message: string) => void;
}

export function auditTrail(repo: Repository, ctx: AuditContext): AuditTrail {
  return new AuditTrail(repo, {
    stateDir: resolveStateDir(ctx.stateDir),
    clearNames: ctx.clearNames ?? clearNamesFromEnv(),
    upload: !ctx.readOnly,
    notice: ctx.notice,
  });
}

/** Runs `fn` and records it, ok or failed. */
export async function audited<T>(repo: Repository, ctx: AuditContext, spec: AuditSpec<T>, fn: () => Promise<T>): Promise<T> {
  let value: T;
  try {
    value = await fn();
  } catch (e) {
    await recordSafely(repo, ctx, spec.action, spec.what ?? {}, 'failed', e);
    throw e;
  }
  const more = safeAfter(spec, value);
  await recordSafely(repo, ctx, spec.action, { ...spec.what, ...more }, more.result ?? 'ok');
  return value;
}

export async function recordSafely(repo: Repository, ctx: AuditContext, action: AuditAction, what: AuditWhat, result: AuditResult, error?: unknown): Promise<void> {
  try {
    const { result: _r, ...clean } = what as AuditWhat & { result?: unknown };
    await auditTrail(repo, ctx).record(action, clean, result, error);
  } catch (e) {
    ctx.notice?.(`could not write the audit trail: ${describeError(e)}`);
  }
}

function safeAfter<T>(spec: AuditSpec<T>, value: T): AuditWhat & { result?: AuditResult } {
  try {
    return spec.after?.(value) ?? {};
  } catch {
    return {};
  }
}
