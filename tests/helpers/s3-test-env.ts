/**
 * The S3 test server (scripts/rgw.sh) as seen by the tests: its endpoint and keys from the
 * environment, and throwaway buckets. Bucket administration (create with Object Lock, purge
 * every version, version-level deletes) is something the agent never does, so it lives here,
 * in the one test helper that talks to the SDK directly.
 * @module
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';

export interface S3TestEnv {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/**
 * The RGW from the environment; undefined when COFFRE_SKIP_S3=1. Without either, the test file
 * fails at once with one line saying what to do — a silently skipped S3 suite looks green.
 */
export function s3TestEnv(): S3TestEnv | undefined {
  if (process.env['COFFRE_SKIP_S3'] === '1') return undefined;
  const endpoint = process.env['COFFRE_TEST_S3_ENDPOINT'];
  const accessKeyId = process.env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = process.env['AWS_SECRET_ACCESS_KEY'];
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error(
      'S3 tests need COFFRE_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: run `set -a; eval "$(scripts/rgw.sh start)"; set +a` first, or set COFFRE_SKIP_S3=1 to skip them',
    );
  }
  return { endpoint, accessKeyId, secretAccessKey, region: process.env['AWS_REGION'] ?? 'us-east-1' };
}

/**
 * Stands in for the environment while a skipped S3 suite is collected (vitest still runs
 * describe bodies of skipped suites); no test ever runs against it.
 */
export const SKIPPED_S3: S3TestEnv = { endpoint: 'http://127.0.0.1:9', accessKeyId: 'skipped', secretAccessKey: 'skipped', region: 'us-east-1' };

export function adminClient(env: S3TestEnv): S3Client {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface TestBucket {
  readonly name: string;
  /** `s3:http://127.0.0.1:17480/NAME` plus the prefix, if one was asked for. */
  readonly location: string;
  /** Deletes every version and the bucket. Not possible for buckets with live retention. */
  destroy(): Promise<void>;
}

export function uniqueBucketName(tag: string): string {
  return `coffre-${tag}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`.toLowerCase();
}

export async function createTestBucket(
  env: S3TestEnv,
  opts: { tag?: string; objectLock?: boolean; prefix?: string } = {},
): Promise<TestBucket> {
  const client = adminClient(env);
  const name = uniqueBucketName(opts.tag ?? 't');
  await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: opts.objectLock === true }));
  return {
    name,
    location: `s3:${env.endpoint}/${name}${opts.prefix ? `/${opts.prefix}` : ''}`,
    destroy: async () => {
      try {
        await purgeBucket(client, name);
      } finally {
        client.destroy();
      }
    },
  };
}

/** Frees the test server's memory (memstore keeps objects in RAM). */
async function purgeBucket(client: S3Client, bucket: string): Promise<void> {
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await client.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
    );
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key ?? '',
      VersionId: v.VersionId,
    }));
    if (objects.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
