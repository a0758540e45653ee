/**
 * What an admin sees when the S3 storage cannot be used, through the real CLI: one line
 * starting `coffre: ` that names the endpoint and bucket and says what is wrong, exit 5, no
 * stack trace, no secret — and nothing written to the repository, so that the next run, once
 * the problem is fixed, starts from a repository exactly as it was.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOk, ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { s3Backend, type TestRepository } from '../helpers/repo-backends.js';
import { s3TestEnv, SKIPPED_S3, uniqueBucketName } from '../helpers/s3-test-env.js';
import { passwordFile, tempDir } from '../helpers/tmp.js';
import { write } from '../helpers/tree.js';

const env = s3TestEnv();
const backend = s3Backend();
const MINUTE = 60_000;

/** A CLI child whose clock is off by `offsetMs` (RGW refuses requests more than 15 minutes off). */
function skewedClock(offsetMs: number): NodeJS.ProcessEnv {
  const preload = pathToFileURL(path.join(ROOT, 'tests/helpers/skewed-clock.mjs')).href;
  return { NODE_OPTIONS: `--import=${preload}`, COFFRE_TEST_CLOCK_OFFSET_MS: String(offsetMs) };
}

function expectOneStorageLine(r: CliResult, message: string | RegExp): void {
  expect(r.code, r.stderr).toBe(5);
  expect(r.stderr.endsWith('\n') && r.stderr.split('\n').length === 2, r.stderr).toBe(true);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (typeof message === 'string') expect(r.stderr.trim()).toBe(message);
  else expect(r.stderr.trim()).toMatch(message);
}

describe.skipIf(backend.skipped)('S3 storage that cannot be used, through the CLI', () => {
  const e = env ?? SKIPPED_S3;
  const host = new URL(e.endpoint).host;
  const dir = tempDir();
  const src = path.join(dir, 'src');
  const pw = passwordFile(dir);
  let repo: TestRepository;
  let bucketAndPrefix: string;
  let objectsBefore: string[];
  const opts = (location: string) => ['--repo', location, '--password-file', pw, '--state-dir', path.join(dir, 'state')];

  beforeAll(async () => {
    await backend.setUp();
    repo = backend.newRepository('errors');
    bucketAndPrefix = repo.location.slice(`s3:${e.endpoint}/`.length);
    write(`${src}/a.txt`, 'patient identities, version 1');
    await cliOk(['init', ...opts(repo.location), '--kdf', 'min']);
    await cliOk(['backup', ...opts(repo.location), src]);
    write(`${src}/a.txt`, 'patient identities, version 2'); // so that a backup that got through would add objects
    objectsBefore = await repo.keys();
  });
  afterAll(() => backend.tearDown());

  it('an unreachable endpoint: retried a few times, then one line', async () => {
    const port = await closedPort();
    const r = await runCli(['backup', ...opts(`s3:http://127.0.0.1:${port}/${bucketAndPrefix}`), src]);
    expectOneStorageLine(
      r,
      `coffre: s3 127.0.0.1:${port}/${bucketAndPrefix}/config: cannot connect to the S3 endpoint: connection refused (ECONNREFUSED) (gave up after 6 attempts)`,
    );
  });

  it('a missing bucket: not mistaken for "no repository here" (exit 10), for backup and for init', async () => {
    const missing = uniqueBucketName('missing');
    const backup = await runCli(['backup', ...opts(`s3:${e.endpoint}/${missing}/host-01`), src]);
    expectOneStorageLine(backup, `coffre: s3 ${host}/${missing}/host-01/config: the bucket does not exist (NoSuchBucket, HTTP 404)`);
    const init = await runCli(['init', ...opts(`s3:${e.endpoint}/${missing}/host-01`), '--kdf', 'min']);
    expectOneStorageLine(init, new RegExp(`^coffre: s3 ${host}/${missing}(/host-01/config)?: the bucket does not exist \\(NoSuchBucket, HTTP 404\\)$`));
  });

  it('a wrong secret key or an unknown key id: access denied, saying which, never echoing the secret', async () => {
    const wrongSecret = 'wrong-secret-0123456789abcdefWXYZ';
    const bad = await runCli(['backup', ...opts(repo.location), src], { env: { AWS_SECRET_ACCESS_KEY: wrongSecret } });
    expectOneStorageLine(bad, `coffre: s3 ${host}/${bucketAndPrefix}/config: access denied: the secret access key is wrong (SignatureDoesNotMatch, HTTP 403)`);
    const unknown = await runCli(['backup', ...opts(repo.location), src], { env: { AWS_ACCESS_KEY_ID: 'NOSUCHKEY0000000' } });
    expectOneStorageLine(unknown, /access denied: the access key id is unknown to the server \(InvalidAccessKeyId, HTTP 403\)$/);
    for (const r of [bad, unknown]) expect(r.stderr + r.stdout).not.toContain(wrongSecret);
  });

  it('a clock 20 minutes off either way: refused by the server, and the message says to fix the time', async () => {
    for (const offset of [20 * MINUTE, -20 * MINUTE]) {
      const r = await runCli(['backup', ...opts(repo.location), src], { env: skewedClock(offset) });
      expectOneStorageLine(r, /: request refused because of clock skew: .*fix the time \(NTP\) \(RequestTimeTooSkewed, HTTP 403\)$/);
    }
    // Within RGW's 15 minutes the same skewed clock works: the refusal above is the skew, nothing else.
    const near = await runCli(['snapshots', ...opts(repo.location)], { env: skewedClock(5 * MINUTE) });
    expect(near.code, near.stderr).toBe(0);
  });

  it('none of the refused runs wrote anything; the next good run backs up and checks clean', async () => {
    expect(await repo.keys()).toEqual(objectsBefore);
    const r = JSON.parse((await cliOk(['backup', '--json', ...opts(repo.location), src])).stdout);
    expect(r.filesChanged).toBe(1);
    const check = await runCli(['check', '--read-data', ...opts(repo.location)]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });
});

/** A port nobody listens on: bind, note it, close. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
