/**
 * S3 credentials from files (agent config `"s3": { "accessKeyIdFile", "secretAccessKeyFile" }`),
 * or nothing, which lets the SDK use the AWS standard chain (environment, shared config
 * files, container/instance roles).
 *
 * A secret file readable by group or others is refused outright: a backup agent whose
 * storage keys any local user can read gives an attacker on the box the means to reach the
 * off-site copy, which is what the off-site copy exists to survive.
 * @module
 */
import { SecretFileError, UsageError } from '../../domain/errors.js';
import { readSecretFile } from '../../util/secret-file.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3CredentialFiles {
  readonly accessKeyIdFile?: string;
  readonly secretAccessKeyFile?: string;
}

/** Credentials from the two files, or undefined when neither is configured. */
export async function readCredentialFiles(files: S3CredentialFiles): Promise<S3Credentials | undefined> {
  const { accessKeyIdFile, secretAccessKeyFile } = files;
  if (accessKeyIdFile === undefined && secretAccessKeyFile === undefined) return undefined;
  if (accessKeyIdFile === undefined || secretAccessKeyFile === undefined) {
    throw new UsageError('S3 credential files: set both accessKeyIdFile and secretAccessKeyFile, or neither');
  }
  return {
    accessKeyId: await readCredentialFile(accessKeyIdFile, 'S3 access key id'),
    secretAccessKey: await readCredentialFile(secretAccessKeyFile, 'S3 secret access key'),
  };
}

/** The file's one value without surrounding whitespace; refuses group/other-readable files. */
async function readCredentialFile(file: string, what: string): Promise<string> {
  const value = (await readSecretFile(file, what)).toString('utf8').trim();
  if (value === '' || /\s/.test(value)) {
    throw new SecretFileError(`${what} file ${file} must hold exactly one non-empty value`);
  }
  return value;
}
