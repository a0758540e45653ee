/**
 * S3-compatible backend (AWS, Ceph RGW, MinIO, …). This folder is the only code that talks to
 * the AWS SDK, and nothing SDK-typed leaves it.
 *
 * How each part of the Storage contract is kept on S3:
 * - never overwrite: PutObject carries `If-None-Match: *` (412 → 'already-exists'). Servers that
 *   ignore it are real: RGW Pacific does on versioned buckets (so on every Object Lock bucket)
 *   and on CompleteMultipartUpload. Unless the server is known to enforce it
 *   (`conditionalWrites: 'server'`, the default for AWS), a HeadObject runs first; that leaves
 *   only a race between two writers of the same key, which content-derived keys make harmless.
 * - nothing damaged or short: the body's SHA-256 is signed (x-amz-content-sha256) and checked by
 *   the server (payload-hash.ts); multipart parts carry Content-MD5 and their ETags are checked;
 *   downloads are checked against Content-Length / the requested range, a short body being 'transient'.
 * - retention: Object Lock headers with Content-MD5 (which AWS documents as required for them).
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from './sdk.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { StorageError } from '../../domain/errors.js';
import { bodyBytes, bodySize, isFileBody, type Body, type ObjectInfo, type PutOptions, type Retention, type Storage, type StorageCapabilities } from '../storage.js';
import { readBody, truncated } from './body.js';
import { classifyS3Error } from './classify.js';
import { createS3Client } from './client.js';
import { readCredentialFiles, type S3CredentialFiles, type S3Credentials } from './credentials.js';
import { formatS3Location, parseS3Location, type S3Location } from './location.js';
import { checkEtag, MIN_PART_SIZE, putMultipart } from './multipart.js';
import { bucketHasObjectLock, explainLockRefusal, extendObjectRetention, lockParams, readObjectRetention } from './object-lock.js';
import { sha256OffThread, withPayloadHash } from './payload-hash.js';

export interface S3StorageOptions extends S3CredentialFiles {
  /** Default: the region in an AWS host name, then AWS_REGION, then us-east-1. */
  readonly region?: string;
  /** Explicit keys (tests, callers that read them elsewhere); else files, else the AWS chain. */
  readonly credentials?: S3Credentials;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Upper bound on parallel connections; the limiter wrapper bounds requests. */
  readonly maxSockets?: number;
  /** Bodies larger than this go up as multipart uploads. */
  readonly multipartThresholdBytes?: number;
  readonly partSizeBytes?: number;
  readonly listPageSize?: number;
  /**
   * 'server': trust the server to enforce If-None-Match (AWS documents it for PutObject and
   * CompleteMultipartUpload). 'check-first': also HeadObject before each put (the default for
   * any other server: Ceph RGW Pacific ignores the header on versioned buckets and multipart).
   */
  readonly conditionalWrites?: 'server' | 'check-first';
}

export const S3_DEFAULTS = {
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  // A 20 MiB pack at 1 Mbit/s takes under 3 minutes; a request slower than this is stuck.
  requestTimeoutMs: 10 * 60_000,
  maxSockets: 16,
  multipartThresholdBytes: 64 * 1024 * 1024,
  partSizeBytes: 16 * 1024 * 1024,
  listPageSize: 1000,
} as const;

export class S3Storage implements Storage {
  readonly capabilities: StorageCapabilities;
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly secrets: string[];
  private readonly checkBeforePut: boolean;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly listPageSize: number;
  private bucketSeen = false;
  private lockEnabled: Promise<{ enabled: boolean }> | undefined;

  /** Parses the repository string and reads credential files; no request is made yet. */
  static async open(location: string, opts: S3StorageOptions = {}): Promise<S3Storage> {
    const loc = parseS3Location(location);
    const credentials = opts.credentials ?? (await readCredentialFiles(opts));
    return new S3Storage(loc, credentials, opts);
  }

  private constructor(private readonly loc: S3Location, credentials: S3Credentials | undefined, opts: S3StorageOptions) {
    this.location = formatS3Location(loc);
    this.bucket = loc.bucket;
    this.prefix = loc.prefix;
    this.secrets = [credentials?.secretAccessKey, credentials?.sessionToken].filter((s): s is string => !!s);
    const conditional = opts.conditionalWrites ?? (loc.isAws ? 'server' : 'check-first');
    this.checkBeforePut = conditional === 'check-first';
    this.multipartThreshold = opts.multipartThresholdBytes ?? S3_DEFAULTS.multipartThresholdBytes;
    this.partSize = Math.max(opts.partSizeBytes ?? S3_DEFAULTS.partSizeBytes, MIN_PART_SIZE);
    this.listPageSize = opts.listPageSize ?? S3_DEFAULTS.listPageSize;
    // objectLock: a put with retention is either enforced by the server or refused by it
    // (a bucket without Object Lock answers 400), never silently stored unprotected.
    this.capabilities = { rangeReads: true, atomicCreate: conditional === 'server', objectLock: true, readsInFlight: 8, readBytes: 4 * 1024 * 1024 };
    this.client = createS3Client(loc, {
      region: opts.region ?? loc.regionFromHost ?? process.env['AWS_REGION'] ?? 'us-east-1',
      credentials,
      connectTimeoutMs: opts.connectTimeoutMs ?? S3_DEFAULTS.connectTimeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs ?? S3_DEFAULTS.idleTimeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs,
      maxSockets: opts.maxSockets ?? S3_DEFAULTS.maxSockets,
    });
  }

  async put(key: string, input: Body, opts: PutOptions = {}): Promise<void> {
    const full = this.fullKey(key);
    const multipart = bodySize(input) > this.multipartThreshold;
    // A file too large for one PUT is read into memory and split: packs never are that large.
    const body = multipart && isFileBody(input) ? await bodyBytes(input) : input;
    const buf = isFileBody(body) ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    // hashed while the HeadObject below runs; a file body brings its digest along
    const digest = multipart ? undefined : isFileBody(body) ? Promise.resolve(body.sha256) : sha256OffThread(buf!);
    digest?.catch(() => undefined); // awaited below, unless the put stops first
    if ((this.checkBeforePut || multipart) && (await this.head(full)) !== undefined) {
      throw new StorageError('already-exists', `${this.target(full)}: object already exists`);
    }
    if (multipart) {
      if (opts.retention && !(await this.objectLock()).enabled) {
        throw new StorageError('other', `${this.target(full)}: the bucket does not have Object Lock enabled`);
      }
      const call = <T>(request: () => Promise<T>) => this.call(full, request);
      const params = { client: this.client, bucket: this.bucket, key: full, target: this.target(full), body: buf! };
      return putMultipart({ ...params, partSize: this.partSize, retention: opts.retention, call });
    }
    const sha256 = await digest!;
    // AWS documents Content-MD5 (or an SDK checksum header) as required with Object Lock
    // parameters; untestable here, so retention puts keep it, and the ETag check that comes with it.
    const md5 = opts.retention ? await md5Of(body) : undefined;
    const out = await this.call(full, () =>
      this.client.send(
        withPayloadHash(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: full,
            Body: isFileBody(body) ? createReadStream(body.path) : buf,
            ContentLength: bodySize(body),
            ChecksumSHA256: sha256.toString('base64'),
            ...(md5 && { ContentMD5: md5.toString('base64') }),
            IfNoneMatch: '*',
            ...lockParams(opts.retention),
          }),
          sha256,
        ),
      ),
    ).catch((e: unknown) => {
      throw opts.retention ? explainLockRefusal(e, this.target(full)) : e;
    });
    if (md5) checkEtag(out.ETag, md5.toString('hex'), this.target(full));
  }

  async get(key: string): Promise<Buffer> {
    const full = this.fullKey(key);
    return this.call(full, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: full }));
      return readBody(out.Body, out.ContentLength, this.target(full));
    });
  }

  async getRange(key: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const full = this.fullKey(key);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StorageError('invalid-range', `${this.target(full)}: invalid range ${offset}+${length}`);
    }
    if (length === 0) {
      // "bytes=N-(N-1)" is not a valid Range header; S3 would send the whole object.
      const { size } = await this.stat(key);
      if (offset > size) throw pastEnd(this.target(full), offset, length, size);
      return Buffer.alloc(0);
    }
    return this.call(full, async () => {
      const range = `bytes=${offset}-${offset + length - 1}`;
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: full, Range: range }));
      const bytes = await readBody(out.Body, out.ContentLength, this.target(full), into);
      const total = objectSizeFrom(out.ContentRange) ?? (out.ContentRange ? undefined : bytes.length);
      if (total !== undefined && offset + length > total) throw pastEnd(this.target(full), offset, length, total);
      if (!out.ContentRange && bytes.length === total) return bytes.subarray(offset, offset + length); // Range ignored
      if (bytes.length !== length) throw truncated(this.target(full), bytes.length, length);
      return bytes;
    });
  }

  async stat(key: string): Promise<ObjectInfo> {
    const full = this.fullKey(key);
    const found = await this.head(full);
    if (found === undefined) {
      await this.ensureBucketExists();
      throw new StorageError('not-found', `${this.target(full)}: no such object (NotFound, HTTP 404)`);
    }
    return { key, size: found.size };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const full = this.prefix + prefix;
    let token: string | undefined;
    do {
      const page = await this.call(full, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken: token, MaxKeys: this.listPageSize }),
        ),
      );
      for (const obj of page.Contents ?? []) {
        if (obj.Key === undefined || !obj.Key.startsWith(this.prefix)) continue;
        yield { key: obj.Key.slice(this.prefix.length), size: obj.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    const full = this.fullKey(key);
    await this.call(full, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: full })));
  }

  /** Whether the bucket has Object Lock enabled (asked once per storage, then remembered). */
  objectLock(): Promise<{ enabled: boolean }> {
    if (!this.lockEnabled) {
      const asked = bucketHasObjectLock(this.client, this.bucket).then(
        (enabled) => ({ enabled }),
        (e: unknown) => {
          this.lockEnabled = undefined; // do not remember failures
          throw classifyS3Error(e, this.bucketTarget(), this.secrets);
        },
      );
      this.lockEnabled = asked;
    }
    return this.lockEnabled;
  }

  async retention(key: string): Promise<Retention | undefined> {
    const full = this.fullKey(key);
    return readObjectRetention(this.client, this.bucket, full, (request) => this.call(full, request));
  }

  /** Retained at least until `retention.until`; never shortened, compliance never weakened. */
  async extendRetention(key: string, retention: Retention): Promise<void> {
    const full = this.fullKey(key);
    await extendObjectRetention(this.client, this.bucket, full, retention, (request) => this.call(full, request));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** The object's size, or undefined if there is no such object (or no such bucket). */
  private async head(full: string): Promise<{ size: number } | undefined> {
    try {
      const out = await this.call(full, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: full })));
      return { size: out.ContentLength ?? 0 };
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not-found') return undefined;
      throw e;
    }
  }

  /**
   * A 404 on HEAD has no body, so "no such key" and "no such bucket" look alike: ask once.
   * Any other answer (e.g. 403 without s3:ListBucket) leaves the plain "no such object".
   */
  private async ensureBucketExists(): Promise<void> {
    if (this.bucketSeen) return;
    const missing = await this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => false,
      (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404,
    );
    // Kind 'other', as classifyS3Error gives NoSuchBucket: not an absent object, a failure.
    if (missing) throw new StorageError('other', `${this.bucketTarget()}: the bucket does not exist (NoSuchBucket, HTTP 404)`);
    this.bucketSeen = true;
  }

  private async call<T>(full: string, request: () => Promise<T>): Promise<T> {
    try {
      const out = await request();
      this.bucketSeen = true;
      return out;
    } catch (e) {
      throw classifyS3Error(e, this.target(full), this.secrets);
    }
  }

  private fullKey(key: string): string {
    if (key === '' || key.startsWith('/')) throw new StorageError('other', `invalid object key ${JSON.stringify(key)}`);
    return this.prefix + key;
  }

  private target(full: string): string {
    return `${this.bucketTarget()}/${full}`;
  }

  private bucketTarget(): string {
    return `s3 ${this.loc.host}/${this.bucket}`;
  }
}

/** Total object size from `Content-Range: bytes 0-9/1234`. */
function objectSizeFrom(contentRange: string | undefined): number | undefined {
  const m = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

function pastEnd(target: string, offset: number, length: number, size: number): StorageError {
  return new StorageError('invalid-range', `${target}: range ${offset}+${length} is past the end of the object (${size} bytes)`);
}

async function md5Of(body: Body): Promise<Buffer> {
  if (!isFileBody(body)) return createHash('md5').update(body).digest();
  const hash = createHash('md5');
  await pipeline(createReadStream(body.path), hash);
  return hash.digest();
}
