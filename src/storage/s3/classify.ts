/**
 * Turns whatever the AWS SDK or the socket below it threw into one StorageError, once, here.
 * The retry wrapper trusts the kind ('transient' is the only retried one), and the CLI prints
 * the message as the single line a user sees, so messages say what failed in words, name the
 * object, and carry the S3 error code for searching — never a credential.
 * @module
 */
import { StorageError, type StorageErrorKind } from '../../domain/errors.js';

/** What the SDK attaches to service errors; read structurally so no SDK type leaks out. */
interface S3ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: unknown;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion', 'NoSuchUpload']);
const PERMISSION = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidToken',
  'ExpiredToken',
  'InvalidSecurity',
]);
// BadDigest/XAmzContentSHA256Mismatch/IncompleteBody: the bytes were damaged or cut on the way (the
// server checked them against Content-MD5 or the signed SHA-256): sending again is right.
// ConditionalRequestConflict (409) is AWS saying a concurrent conditional write is in flight.
const TRANSIENT = new Set([
  'SlowDown',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'BadDigest',
  'XAmzContentSHA256Mismatch',
  'IncompleteBody',
  'ConditionalRequestConflict',
  'TimeoutError',
  'RequestTimeoutException',
]);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

/**
 * @param target where it happened, e.g. `s3 127.0.0.1:7480/bucket/data/ab12`
 * @param secrets strings that must never appear in the message (scrubbed from server text)
 */
export function classifyS3Error(e: unknown, target: string, secrets: readonly string[] = []): StorageError {
  if (e instanceof StorageError) return e;
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as S3ErrorShape;
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? '';
  const [kind, reason] = decide(err, name, status);
  const code = err.code !== undefined && /^E[A-Z_]+$/.test(err.code) ? err.code : codeOf(name, status);
  const tag = status !== undefined && status !== 200 ? `${code}, HTTP ${status}` : code;
  const message = scrub(`${target}: ${reason} (${tag})`, secrets);
  return new StorageError(kind, message, { cause: e });
}

function decide(err: S3ErrorShape, name: string, status: number | undefined): [StorageErrorKind, string] {
  const socketCode = err.code !== undefined && SOCKET_CODES.has(err.code) ? err.code : undefined;
  if (socketCode === 'ECONNREFUSED') return ['transient', 'cannot connect to the S3 endpoint: connection refused'];
  if (socketCode) return ['transient', `network error talking to the S3 endpoint: ${oneLine(err.message)}`];
  if (err.code === 'ENOTFOUND') return ['other', 'the S3 endpoint host name does not resolve'];
  if (name === 'CredentialsProviderError') {
    return ['permission', 'no S3 credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a shared AWS profile, or credential files)'];
  }
  if (name === 'TimeoutError' || name === 'RequestTimeoutException') {
    return ['transient', `the S3 endpoint did not answer in time: ${oneLine(err.message)}`];
  }
  if (name === 'RequestTimeTooSkewed') {
    return ['permission', 'request refused because of clock skew: this machine\'s clock differs too much from the server\'s; fix the time (NTP)'];
  }
  // Not 'not-found': that kind means "no such object", an answer callers act on (init goes
  // ahead, crash resume forgets a pack). A missing bucket is a storage failure: a typo in the
  // repository string, or a bucket someone deleted. It must stop the command (exit 5).
  if (name === 'NoSuchBucket') return ['other', 'the bucket does not exist'];
  if (name === 'PreconditionFailed' || status === 412) return ['already-exists', 'object already exists'];
  if (name === 'InvalidRange' || status === 416) return ['invalid-range', 'range is past the end of the object'];
  if (name === 'QuotaExceeded' || name === 'EntityTooLarge') return ['no-space', 'storage quota exceeded or object too large'];
  if (name === 'InvalidAccessKeyId') return ['permission', 'access denied: the access key id is unknown to the server'];
  if (name === 'SignatureDoesNotMatch') return ['permission', 'access denied: the secret access key is wrong'];
  if (PERMISSION.has(name) || status === 403 || status === 401) return ['permission', 'access denied'];
  if (NOT_FOUND.has(name) || status === 404) return ['not-found', 'no such object'];
  if (TRANSIENT.has(name) || status === 429 || (status !== undefined && status >= 500)) {
    return ['transient', 'the server is busy or failing, worth retrying'];
  }
  if (name === 'InvalidRequest' && /lock/i.test(err.message ?? '')) {
    return ['other', 'the bucket does not have Object Lock enabled'];
  }
  // A response cut off mid-way shows up as an XML parse failure of a 2xx answer.
  if (err.$response !== undefined && /deserializ|parse|xml/i.test(err.message ?? '')) {
    return ['transient', 'the server response was cut off or garbled'];
  }
  return ['other', err.message ? `S3 request failed: ${oneLine(err.message)}` : 'S3 request failed'];
}

function codeOf(name: string, status: number | undefined): string {
  if (name && name !== 'Error' && name !== 'Unknown' && name !== 'UnknownError') return name;
  return status !== undefined ? 'no error code' : 'no response';
}

function oneLine(text: string | undefined): string {
  return (text ?? '').replace(/\s*\n\s*/g, ' ').slice(0, 200);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}
