/**
 * S3 Object Lock: the bucket-level switch, the per-object retention headers, and extending
 * the retention of an object that a new snapshot reuses.
 *
 * Servers report "no lock configuration" and "no retention on this object" as an error
 * (ObjectLockConfigurationNotFoundError, 404); here that is an answer, not a failure, and it
 * must not be mistaken for the other 404s (NoSuchBucket, NoSuchKey).
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectLockConfigurationCommand, GetObjectRetentionCommand, PutObjectRetentionCommand } from './sdk.js';
import { StorageError } from '../../domain/errors.js';
import type { Retention } from '../storage.js';

type S3Mode = 'COMPLIANCE' | 'GOVERNANCE';
const NOT_CONFIGURED = 'ObjectLockConfigurationNotFoundError';

export function toS3Mode(r: Retention): S3Mode {
  return r.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE';
}

/** The PutObject / CreateMultipartUpload parameters for a retention, or none. */
export function lockParams(r: Retention | undefined): { ObjectLockMode?: S3Mode; ObjectLockRetainUntilDate?: Date } {
  return r ? { ObjectLockMode: toS3Mode(r), ObjectLockRetainUntilDate: r.until } : {};
}

/** Raw SDK errors other than "not configured" are rethrown for the caller to classify. */
export async function bucketHasObjectLock(client: S3Client, bucket: string): Promise<boolean> {
  try {
    const out = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    return out.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch (e) {
    if (errorName(e) === NOT_CONFIGURED) return false;
    throw e;
  }
}

/**
 * Retains `key` at least until `wanted.until`. Reads the current retention first: shortening
 * is refused by the server (and pointless), and compliance must never be weakened to
 * governance, so the stronger mode and the later date win. No request if nothing changes.
 */
export async function extendObjectRetention(
  client: S3Client,
  bucket: string,
  key: string,
  wanted: Retention,
  call: <T>(request: () => Promise<T>) => Promise<T>,
): Promise<void> {
  const current = await call(() =>
    client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key })).catch((e: unknown) => {
      if (errorName(e) === NOT_CONFIGURED) return { Retention: undefined }; // the object has none yet
      throw e;
    }),
  );
  const currentMode = current.Retention?.Mode;
  const currentUntil = current.Retention?.RetainUntilDate;
  const mode: S3Mode = currentMode === 'COMPLIANCE' ? 'COMPLIANCE' : toS3Mode(wanted);
  if (currentUntil && currentUntil >= wanted.until && currentMode === mode) return;
  const until = currentUntil && currentUntil > wanted.until ? currentUntil : wanted.until;
  await call(() =>
    client.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: key, Retention: { Mode: mode, RetainUntilDate: until } })),
  );
}

/** The retention of `key` now, or undefined when it has none. */
export async function readObjectRetention(
  client: S3Client,
  bucket: string,
  key: string,
  call: <T>(request: () => Promise<T>) => Promise<T>,
): Promise<Retention | undefined> {
  const out = await call(() =>
    client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key })).catch((e: unknown) => {
      if (errorName(e) === NOT_CONFIGURED) return { Retention: undefined };
      throw e;
    }),
  );
  const r = out.Retention;
  if (!r?.RetainUntilDate || !r.Mode) return undefined;
  return { mode: r.Mode === 'COMPLIANCE' ? 'compliance' : 'governance', until: r.RetainUntilDate };
}

/** RGW answers a retention put on a bucket without Object Lock with a bare 400 InvalidRequest. */
export function explainLockRefusal(e: unknown, target: string): unknown {
  if (e instanceof StorageError && errorName(e.cause) === 'InvalidRequest') {
    return new StorageError('other', `${target}: the bucket does not have Object Lock enabled (InvalidRequest, HTTP 400)`, {
      cause: e,
    });
  }
  return e;
}

export function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : undefined;
}
