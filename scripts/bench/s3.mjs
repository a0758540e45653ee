// Small S3 helper for scripts/bench.sh (BENCH_S3=1), using @aws-sdk/client-s3 from the project's node_modules.
//
//   node s3.mjs probe                   exit 0 if the endpoint answers ListBuckets with these credentials
//   node s3.mjs mkbucket BUCKET         create BUCKET unless it already exists
//   node s3.mjs du BUCKET PREFIX        print the total size in bytes of the objects under PREFIX/
//   node s3.mjs rm BUCKET PREFIX        delete every object under PREFIX/
//
// Endpoint: COFFRE_TEST_S3_ENDPOINT (http://127.0.0.1:PORT, as printed by scripts/rgw.sh start); credentials:
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; AWS_REGION (default us-east-1). Path-style addressing, and checksums only
// when an operation requires them (Ceph RGW Pacific rejects the SDK's default aws-chunked trailers).
import {
  S3Client, ListBucketsCommand, CreateBucketCommand, HeadBucketCommand, ListObjectsV2Command, DeleteObjectsCommand,
} from '@aws-sdk/client-s3';

// The SDK warns on stderr, on Node 20, that its releases after January 2027 will need Node 22
// (the same switch as src/storage/s3/client.ts): not this script's business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const endpoint = process.env.COFFRE_TEST_S3_ENDPOINT;
const fail = (msg) => { process.stderr.write(`s3.mjs: ${msg}\n`); process.exit(1); };
if (!endpoint) fail('COFFRE_TEST_S3_ENDPOINT is not set');
const s3 = new S3Client({
  endpoint,
  region: process.env.AWS_REGION || 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  maxAttempts: 2,
});

async function* list(Bucket, prefix) {
  let ContinuationToken;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix ? prefix.replace(/\/?$/, '/') : undefined, ContinuationToken }));
    for (const o of r.Contents ?? []) yield o;
    ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (ContinuationToken);
}

const [cmd, bucket, prefix] = process.argv.slice(2);
try {
  if (cmd === 'probe') {
    await s3.send(new ListBucketsCommand({}));
  } else if (cmd === 'mkbucket' && bucket) {
    try { await s3.send(new HeadBucketCommand({ Bucket: bucket })); } catch { await s3.send(new CreateBucketCommand({ Bucket: bucket })); }
  } else if (cmd === 'du' && bucket && prefix) {
    let n = 0;
    for await (const o of list(bucket, prefix)) n += o.Size ?? 0;
    process.stdout.write(`${n}\n`);
  } else if (cmd === 'rm' && bucket && prefix) {
    let batch = [];
    const flush = async () => { if (batch.length) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } })); batch = []; };
    for await (const o of list(bucket, prefix)) { batch.push({ Key: o.Key }); if (batch.length === 1000) await flush(); }
    await flush();
  } else {
    fail('usage: node s3.mjs probe | mkbucket BUCKET | du BUCKET PREFIX | rm BUCKET PREFIX');
  }
} catch (e) {
  if (e?.name === 'NoSuchBucket' && (cmd === 'du' || cmd === 'rm')) { if (cmd === 'du') process.stdout.write('0\n'); process.exit(0); }
  fail(`${cmd} ${bucket ?? ''} at ${endpoint}: ${e?.name ?? 'Error'}: ${(e?.message || String(e)).split('\n')[0]}`);
}
