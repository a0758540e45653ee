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
import * as fs from 'node:fs/promises';
import { SecretFileError, UsageError } from '../../domain/errors.js';

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
    accessKeyId: await readSecretFile(accessKeyIdFile, 'S3 access key id'),
    secretAccessKey: await readSecretFile(secretAccessKeyFile, 'S3 secret access key'),
  };
}

/** The file's content without surrounding whitespace; refuses group/other-readable files. */
export async function readSecretFile(file: string, what: string): Promise<string> {
  let mode: number;
  let text: string;
  try {
    mode = (await fs.stat(file)).mode;
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new SecretFileError(`${file}: cannot read the ${what} file (${code})`, { cause: e });
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    // Same words and hint as for passphrase files (app/secrets.ts): one fix to remember.
    throw new SecretFileError(`${what} file ${file} is readable by group or others (mode ${octal})`, { hint: `chmod 600 ${file}` });
  }
  const value = text.trim();
  if (value === '' || /\s/.test(value)) {
    throw new SecretFileError(`${file}: the ${what} file must hold exactly one non-empty value`);
  }
  return value;
}
