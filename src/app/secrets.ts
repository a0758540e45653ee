/**
 * Where passphrases come from: a file (its mode must be 0600 or stricter), the
 * environment naming such a file, or a prompt on the terminal — never a command-line
 * argument, which every user of the machine can read in the process list (DESIGN
 * invariant 7).
 * @module
 */
import { UsageError } from '../domain/errors.js';
import { readSecretFile } from '../util/secret-file.js';

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
