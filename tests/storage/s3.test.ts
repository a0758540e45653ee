/**
 * The Storage contract against S3Storage on the RGW from scripts/rgw.sh, bare and as
 * openStorage builds it (retry + limits), and with a repository prefix.
 */
import { describe } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { createTestBucket, s3TestEnv, SKIPPED_S3 } from '../helpers/s3-test-env.js';
import { storageContract, type ContractSubject } from './contract.js';

const env = s3TestEnv();

describe.skipIf(!env)('S3 on RGW', () => {
  const e = env ?? SKIPPED_S3;
  const credentials = { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey };
  // Small multipart settings so the 6 MiB contract body goes up in two parts.
  const multipart = { multipartThresholdBytes: 5 * 1024 * 1024 + 1, partSizeBytes: 5 * 1024 * 1024 };

  const bare = async (): Promise<ContractSubject> => {
    const bucket = await createTestBucket(e, { tag: 'contract' });
    const storage = await S3Storage.open(bucket.location, { credentials, listPageSize: 40, ...multipart });
    return { storage, cleanup: bucket.destroy };
  };
  // Pagination is exercised with small pages here; the 1000-per-page default below.
  storageContract('S3Storage (check-first), list pages of 40', bare, { manyObjects: 130 });

  // RGW enforces If-None-Match on single-part puts to unversioned buckets, so the race test
  // can demand exactly one winner here.
  storageContract('S3Storage (conditionalWrites: server)', async () => {
    const bucket = await createTestBucket(e, { tag: 'cond' });
    return {
      storage: await S3Storage.open(bucket.location, { credentials, conditionalWrites: 'server' }),
      cleanup: bucket.destroy,
    };
  });

  storageContract('openStorage (retry + limits) with a prefix, list pages of 100', async () => {
    const bucket = await createTestBucket(e, { tag: 'open', prefix: 'hosts/h1' });
    const storage = await openStorage(bucket.location, {
      s3: { credentials, listPageSize: 100, ...multipart },
      concurrency: 4,
    });
    return { storage, cleanup: bucket.destroy };
  }, { manyObjects: 250 });
});
