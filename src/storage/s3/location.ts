/**
 * Repository strings for S3-compatible storage: `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]`.
 *
 * Credentials never belong in the string (it ends up in argv, logs and status output), so a
 * `user:password@` part is refused rather than silently used.
 * @module
 */
import { UsageError } from '../../domain/errors.js';

export interface S3Location {
  /** `http://127.0.0.1:7480` — scheme, host and port only. */
  readonly endpoint: string;
  /** `127.0.0.1:7480` (port only when given). */
  readonly host: string;
  readonly bucket: string;
  /** '' or a prefix ending in '/', prepended to every object key. */
  readonly prefix: string;
  /** AWS itself: virtual-hosted addressing works there; other servers get path-style requests. */
  readonly isAws: boolean;
  /** Region named by an AWS host such as `s3.eu-west-3.amazonaws.com`, if any. */
  readonly regionFromHost: string | undefined;
}

const SCHEME = 's3:';
// Loose on purpose: AWS's own rules are stricter, but RGW and MinIO accept more, and the
// server is the one to refuse a name it does not like.
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/;

export function isS3Location(location: string): boolean {
  return location.startsWith(SCHEME);
}

export function parseS3Location(location: string): S3Location {
  if (!isS3Location(location)) throw bad(location, 'it does not start with "s3:"');
  let url: URL;
  try {
    url = new URL(location.slice(SCHEME.length));
  } catch {
    throw bad(location, 'expected s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(location, 'the scheme must be http or https');
  // Report without echoing the string: it may hold the very secret we refuse.
  if (url.username || url.password) {
    throw new UsageError('S3 repository string must not contain credentials; use the AWS environment or credential files', {
      hint: 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "s3": { "accessKeyIdFile", "secretAccessKeyFile" }',
    });
  }
  if (url.search || url.hash) throw bad(location, 'query strings and fragments are not allowed');
  // URL() resolves "a/../b" silently, which would change the bucket: look at the raw path.
  const rawPath = decode(location, location.slice(SCHEME.length).replace(/^[a-z]+:\/\/[^/]*/i, ''));
  if (rawPath.split('/').some((p) => p === '.' || p === '..')) throw bad(location, 'the path must not contain "." or ".."');
  const parts = decode(location, url.pathname).split('/').filter((p) => p !== '');
  const [bucket, ...prefixParts] = parts;
  if (bucket === undefined) throw bad(location, 'the bucket name is missing');
  if (!BUCKET_NAME.test(bucket)) throw bad(location, `"${bucket}" is not a valid bucket name`);

  const hostname = url.hostname.toLowerCase();
  const isAws = hostname.endsWith('.amazonaws.com');
  return {
    endpoint: `${url.protocol}//${url.host}`,
    host: url.host,
    bucket,
    prefix: prefixParts.length > 0 ? `${prefixParts.join('/')}/` : '',
    isAws,
    regionFromHost: isAws ? awsRegionOf(hostname) : undefined,
  };
}

/** The canonical string, safe to print: `s3:https://host/bucket/prefix`. */
export function formatS3Location(loc: S3Location): string {
  const prefix = loc.prefix ? `/${loc.prefix.slice(0, -1)}` : '';
  return `${SCHEME}${loc.endpoint}/${loc.bucket}${prefix}`;
}

/** `s3.eu-west-3.amazonaws.com`, `s3-eu-west-3.amazonaws.com`, `s3.dualstack.eu-west-3.amazonaws.com`. */
function awsRegionOf(hostname: string): string | undefined {
  const m = /(?:^|\.)s3[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com$/.exec(hostname);
  return m?.[1];
}

function decode(location: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw bad(location, 'malformed %-escape in the path');
  }
}

function bad(location: string, why: string): UsageError {
  return new UsageError(`invalid S3 repository "${location}": ${why}`, {
    hint: 's3:http(s)://HOST[:PORT]/BUCKET[/PREFIX], e.g. s3:https://s3.example.net/backups/host-01',
  });
}
