/**
 * Builds the one S3Client an S3Storage uses. Every setting here is a decision:
 * - `maxAttempts: 1`: retrying is the retry wrapper's job (it knows which operations are safe
 *   to repeat and how to recognise a put that landed before its answer was lost); SDK retries
 *   underneath it would multiply attempts and hide failures from `onRetry`.
 * - checksums `WHEN_REQUIRED`: the SDK's default aws-chunked trailing checksums get 411 from
 *   Ceph RGW (Pacific) and are stored *inside* the object by some servers; we send
 *   Content-MD5 ourselves, which every S3 implementation understands.
 * - path-style addressing except on AWS, where bucket DNS names always exist.
 * - explicit timeouts: a dead connection must fail, not hang a backup forever.
 * @module
 */
import type { S3Client as S3ClientType } from '@aws-sdk/client-s3';
import { NodeHttpHandler, S3Client } from './sdk.js';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { S3Credentials } from './credentials.js';
import type { S3Location } from './location.js';

export interface S3ClientSettings {
  readonly region: string;
  readonly credentials: S3Credentials | undefined;
  /** TCP (+TLS) connection set-up. */
  readonly connectTimeoutMs: number;
  /** A socket with no traffic for this long is abandoned (a stalled server or network). */
  readonly idleTimeoutMs: number;
  /** The whole request and response, for a request that trickles but never finishes. */
  readonly requestTimeoutMs: number;
  readonly maxSockets: number;
}

const quiet = (): void => undefined;
const SILENT_LOGGER = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

export function createS3Client(loc: S3Location, s: S3ClientSettings): S3ClientType {
  // The SDK prints a multi-line warning about future Node support to stderr on first use;
  // our stderr carries one-line errors only, and the SDK version is pinned in package.json.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const agentOptions = { keepAlive: true, maxSockets: s.maxSockets };
  return new S3Client({
    endpoint: loc.endpoint,
    region: s.region,
    forcePathStyle: !loc.isAws,
    ...(s.credentials ? { credentials: { ...s.credentials } } : {}),
    maxAttempts: 1,
    // The SDK warns on the console when a streamed body (a pack file) meets an error, since it
    // cannot retry it itself; we retry (storage/retry.ts) and report failures in one line.
    logger: SILENT_LOGGER,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      connectionTimeout: s.connectTimeoutMs,
      socketTimeout: s.idleTimeoutMs,
      requestTimeout: s.requestTimeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  });
}
