/**
 * The one reader of secret files (passphrases, recovery key shares, S3 credentials): it
 * refuses a file that group or others could read, with the fix in the hint (DESIGN
 * invariant 7). Below every layer that reads secrets, so storage and app share it.
 * @module
 */
import * as fs from 'node:fs/promises';
import { SecretFileError } from '../domain/errors.js';

/** Reads a secret file, refusing one that group or others could read. One trailing newline is dropped. */
export async function readSecretFile(file: string, what = 'passphrase'): Promise<Buffer> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (e) {
    throw new SecretFileError(`cannot read ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) throw new SecretFileError(`${what} file ${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new SecretFileError(`${what} file ${file} is readable by group or others (mode ${mode})`, { hint: `chmod 600 ${file}` });
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new SecretFileError(`cannot read ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  if (end === 0) throw new SecretFileError(`${what} file ${file} is empty`);
  return bytes.subarray(0, end);
}

