/**
 * The one error hierarchy. Every failure a user can meet is a CoffreError with a stable
 * `code`, a one-line message naming the object or file concerned, an optional hint, and
 * an exit code. Only src/cli/main.ts turns these into a process exit; the exit codes are
 * documented in README.md and must not change meaning.
 * @module
 */

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  incomplete: 3,
  integrity: 4,
  storage: 5,
  repositoryNotFound: 10,
  locked: 11,
  wrongPassword: 12,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface CoffreErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class CoffreError extends Error {
  readonly code: string = 'COFFRE_FAILURE';
  readonly exitCode: ExitCode = ExitCode.failure;
  readonly hint: string | undefined;

  constructor(message: string, opts: CoffreErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

/** Bad flags, arguments or configuration: nothing was attempted. */
export class UsageError extends CoffreError {
  override readonly code: string = 'COFFRE_USAGE';
  override readonly exitCode: ExitCode = ExitCode.usage;
}

/** The agent config file is invalid; the message names the exact key path. */
export class ConfigError extends UsageError {
  override readonly code: string = 'COFFRE_CONFIG';
}

/** A secret file is missing, unreadable or readable by group/others. */
export class SecretFileError extends UsageError {
  override readonly code: string = 'COFFRE_SECRET_FILE';
}

/** A write-only key was asked to read history (restore, check --read-data, drills need a full key). */
export class WriteOnlyError extends UsageError {
  override readonly code: string = 'COFFRE_WRITE_ONLY';
}

export class WrongPasswordError extends CoffreError {
  override readonly code = 'COFFRE_WRONG_PASSWORD';
  override readonly exitCode = ExitCode.wrongPassword;
}

export class RepositoryNotFoundError extends CoffreError {
  override readonly code = 'COFFRE_REPOSITORY_NOT_FOUND';
  override readonly exitCode = ExitCode.repositoryNotFound;
}

/** Another process holds the lock on a state dir (or the repository refuses a second writer). */
export class LockedError extends CoffreError {
  override readonly code = 'COFFRE_LOCKED';
  override readonly exitCode = ExitCode.locked;
}

/**
 * Stored bytes are not what was written: authentication failed, a pack does not match its
 * name, an object is truncated or unparseable. `objectKey` names the damaged object.
 */
export class IntegrityError extends CoffreError {
  override readonly code = 'COFFRE_INTEGRITY';
  override readonly exitCode = ExitCode.integrity;
  readonly objectKey: string;
  constructor(objectKey: string, message: string, opts: CoffreErrorOptions = {}) {
    super(message, opts);
    this.objectKey = objectKey;
  }
}

/** The repository was written by a newer or unknown format version, or uses a feature this build lacks. */
export class FormatError extends CoffreError {
  override readonly code = 'COFFRE_FORMAT';
}

/** The work was done except for some items, each reported before this is thrown. */
export class IncompleteError extends CoffreError {
  override readonly code = 'COFFRE_INCOMPLETE';
  override readonly exitCode = ExitCode.incomplete;
  readonly failures: readonly string[];
  constructor(message: string, failures: readonly string[], opts: CoffreErrorOptions = {}) {
    super(message, opts);
    this.failures = failures;
  }
}

/** A check, verify or drill finished and found damage or mismatches. */
export class VerificationFailedError extends CoffreError {
  override readonly code = 'COFFRE_VERIFICATION_FAILED';
  override readonly exitCode = ExitCode.integrity;
}

/**
 * A worker thread died or could not start (out of memory, a broken build). The data is not
 * to blame, so no file or pack is reported damaged or unreadable because of it: the whole
 * command stops, and a later run resumes where it stopped.
 */
export class WorkerFailedError extends CoffreError {
  override readonly code = 'COFFRE_WORKER';
}

/**
 * How a storage operation failed. Only `transient` is worth retrying; the retry wrapper
 * relies on this classification being done once, in each backend.
 */
export type StorageErrorKind =
  | 'not-found' // the object (or bucket, or directory) does not exist
  | 'already-exists' // a put would have overwritten an object
  | 'permission' // credentials refused or access denied
  | 'invalid-range' // a ranged read outside the object
  | 'no-space' // disk or quota full
  | 'transient' // network error, timeout, 5xx, throttling
  | 'other';

export class StorageError extends CoffreError {
  override readonly code = 'COFFRE_STORAGE';
  override readonly exitCode = ExitCode.storage;
  readonly kind: StorageErrorKind;
  constructor(kind: StorageErrorKind, message: string, opts: CoffreErrorOptions = {}) {
    super(message, opts);
    this.kind = kind;
  }
}

export function isStorageError(e: unknown, kind?: StorageErrorKind): e is StorageError {
  return e instanceof StorageError && (kind === undefined || e.kind === kind);
}

/** A short, single-line description of any thrown value, for logs and per-file reports. */
export function describeError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s*\n\s*/g, ' ');
}
