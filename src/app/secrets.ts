/**
 * Where passphrases come from: a file (its mode must be 0600 or stricter), the
 * environment naming such a file, or a prompt on the terminal — never a command-line
 * argument, which every user of the machine can read in the process list (DESIGN
 * invariant 7).
 * @module
 */
import * as fs from 'node:fs/promises';
import { SecretFileError, UsageError } from '../domain/errors.js';

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

/** Reads a line from the terminal without echoing it. */
export async function promptSecret(prompt: string): Promise<Buffer> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new UsageError('no passphrase given', { hint: 'use --password-file FILE or set COFFRE_PASSWORD_FILE (mode 0600)' });
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  const chars: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        for (const c of d) {
          if (c === 0x0d || c === 0x0a) return done(resolve);
          if (c === 0x03) return done(() => reject(new UsageError('interrupted')));
          if (c === 0x7f || c === 0x08) chars.pop();
          else chars.push(c);
        }
      };
      const done = (f: () => void) => {
        stdin.off('data', onData);
        f();
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
  if (chars.length === 0) throw new UsageError('empty passphrase');
  return Buffer.from(chars);
}

/** The passphrase from --password-file, then COFFRE_PASSWORD_FILE, then the terminal. */
export async function getPassword(passwordFile: string | undefined, opts: { confirm?: boolean } = {}): Promise<Buffer> {
  const file = passwordFile ?? process.env.COFFRE_PASSWORD_FILE;
  if (file) return readSecretFile(file);
  const pw = await promptSecret('Passphrase: ');
  if (opts.confirm) {
    const again = await promptSecret('Passphrase again: ');
    if (!pw.equals(again)) throw new UsageError('the passphrases do not match');
  }
  return pw;
}
