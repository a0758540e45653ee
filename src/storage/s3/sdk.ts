/**
 * The AWS SDK's classes, loaded with require(): the SDK ships CommonJS, and importing it as
 * ES modules made node parse every one of its files for named exports first (cjs-module-
 * lexer): 160-170 ms against 85-100 ms here, paid by every command that opens an S3
 * repository before its first request. Types still come from the packages themselves.
 * @module
 */
import { createRequire } from 'node:module';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type * as HttpHandler from '@smithy/node-http-handler';

const require = createRequire(import.meta.url);

export const {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
  UploadPartCommand,
} = require('@aws-sdk/client-s3') as typeof ClientS3;

export const { NodeHttpHandler } = require('@smithy/node-http-handler') as typeof HttpHandler;
