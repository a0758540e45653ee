/**
 * Multipart upload of one in-memory body, for objects above the storage's threshold.
 *
 * Each part carries its own Content-MD5 and its returned ETag is checked, so a part damaged in
 * transit is refused by the server or detected here. Then the object's ETag is checked
 * against the S3 multipart rule (MD5 of the concatenated binary part MD5s, "-" part count).
 *
 * Two Ceph RGW (Pacific) behaviours measured against, which AWS does not share:
 * - CompleteMultipartUpload ignores `If-None-Match: *` and replaces an existing object, so the
 *   caller checks for the key first (see S3Storage.put) and sends the header anyway for servers
 *   that honour it.
 * - CreateMultipartUpload ignores the Object Lock headers, so retention is applied to the new
 *   version with PutObjectRetention after completion.
 * Parts go up one after another: packs are far below the threshold, so this path is rare and
 * its memory stays at one body; a failed upload is aborted so no parts linger (billed) on the server.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand, PutObjectRetentionCommand, UploadPartCommand } from './sdk.js';
import { createHash } from 'node:crypto';
import { StorageError } from '../../domain/errors.js';
import type { Retention } from '../storage.js';
import { lockParams, toS3Mode } from './object-lock.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024; // S3's minimum for every part but the last
const MAX_PARTS = 10_000;

export interface MultipartPut {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** How messages name the object: `s3 host/bucket/key`. */
  readonly target: string;
  readonly body: Buffer;
  readonly partSize: number;
  readonly retention: Retention | undefined;
  /** Runs one SDK call and turns its failure into a StorageError naming the object. */
  readonly call: <T>(request: () => Promise<T>) => Promise<T>;
}

export async function putMultipart(p: MultipartPut): Promise<void> {
  const { client, bucket, key, body } = p;
  const partSize = Math.max(p.partSize, MIN_PART_SIZE, Math.ceil(body.length / MAX_PARTS));
  const created = await p.call(() =>
    client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...lockParams(p.retention) })),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new StorageError('other', `${p.target}: the server started a multipart upload without an upload id`);

  const parts: { PartNumber: number; ETag: string }[] = [];
  const partDigests: Buffer[] = [];
  let completed: { ETag?: string | undefined; VersionId?: string | undefined };
  try {
    for (let offset = 0, n = 1; offset < body.length; offset += partSize, n++) {
      const chunk = body.subarray(offset, Math.min(offset + partSize, body.length));
      const md5 = createHash('md5').update(chunk).digest();
      const out = await p.call(() =>
        client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: n,
            Body: chunk,
            ContentLength: chunk.length,
            ContentMD5: md5.toString('base64'),
          }),
        ),
      );
      checkEtag(out.ETag, md5.toString('hex'), `${p.target} part ${n}`);
      parts.push({ PartNumber: n, ETag: out.ETag ?? '' });
      partDigests.push(md5);
    }
    completed = await p.call(() =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: parts },
        }),
      ),
    );
  } catch (e) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw e;
  }

  const expected = `${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${parts.length}`;
  // RGW answers CompleteMultipartUpload with an empty ETag; ask for it then.
  const etag = completed.ETag || (await p.call(() => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).ETag;
  checkEtag(etag, expected, p.target);
  if (p.retention) {
    const retention = p.retention;
    await p.call(() =>
      client.send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: key,
          VersionId: completed.VersionId,
          Retention: { Mode: toS3Mode(retention), RetainUntilDate: retention.until },
        }),
      ),
    );
  }
}

/**
 * The server's ETag must be the MD5 we computed (quoted, any case). A mismatch means the server
 * stored something other than what we sent, which Content-MD5 should have made impossible.
 */
export function checkEtag(etag: string | undefined, expectedHex: string, what: string): void {
  const got = (etag ?? '').replace(/"/g, '').toLowerCase();
  if (got !== expectedHex) {
    throw new StorageError(
      'other',
      `${what}: the server's ETag ${got || '(none)'} does not match the MD5 of the data sent (${expectedHex}); the stored object may be damaged`,
    );
  }
}
