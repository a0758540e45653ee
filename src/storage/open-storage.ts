/**
 * The one place that turns a repository string into a ready Storage:
 * a plain path is a local directory; `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]` is S3,
 * wrapped as retry(limits(S3Storage)) — retries outermost, so the backoff wait does not hold a
 * request slot and every attempt is counted against the limits.
 * @module
 */
import * as path from 'node:path';
import { LocalStorage } from './local.js';
import { withLimits } from './limiter.js';
import { readOnly } from './read-only.js';
import { withRetry, type RetryOptions } from './retry.js';
import { formatS3Location, isS3Location, parseS3Location } from './s3/location.js';
import type { S3StorageOptions } from './s3/s3-storage.js';
import type { Storage } from './storage.js';

export type { S3StorageOptions } from './s3/s3-storage.js';

export interface OpenStorageOptions {
  /** Credentials files, region, timeouts, multipart settings for `s3:` locations. */
  readonly s3?: S3StorageOptions;
  /** Requests in flight at once against S3. Default 8. */
  readonly concurrency?: number;
  /** Average upload rate in bytes/s; unlimited when absent. */
  readonly uploadBytesPerSecond?: number;
  readonly retry?: RetryOptions;
  /** Refuse every write (drills, restores, checks). */
  readonly readOnly?: boolean;
}

export const DEFAULT_S3_CONCURRENCY = 8;

export async function openStorage(location: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  let storage: Storage;
  if (isS3Location(location)) {
    // Loaded only for S3 locations: the AWS SDK takes 200-300 ms to load, a local repository needs none of it.
    const { S3Storage } = await import('./s3/s3-storage.js');
    const s3 = await S3Storage.open(location, opts.s3);
    const limits = { maxConcurrent: opts.concurrency ?? DEFAULT_S3_CONCURRENCY, uploadBytesPerSecond: opts.uploadBytesPerSecond };
    storage = withRetry(withLimits(s3, limits), opts.retry);
  } else {
    storage = new LocalStorage(path.resolve(location));
  }
  return opts.readOnly ? readOnly(storage) : storage;
}

/**
 * Where a repository lives, for status output and logs: `s3:https://HOST/BUCKET/PREFIX` (never
 * credentials; a string with credentials in it is refused by the parser) or the absolute path.
 */
export function describeLocation(location: string): string {
  return isS3Location(location) ? formatS3Location(parseS3Location(location)) : path.resolve(location);
}
