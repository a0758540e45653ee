/** Repository strings: what is accepted, what it means, and that credentials never get in. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/domain/errors.js';
import { describeLocation } from '../../src/storage/open-storage.js';
import { formatS3Location, parseS3Location } from '../../src/storage/s3/location.js';

describe('S3 repository strings', () => {
  it('splits endpoint, bucket and prefix; non-AWS hosts are path-style', () => {
    expect(parseS3Location('s3:http://127.0.0.1:7480/backups/hosts/h1/')).toEqual({
      endpoint: 'http://127.0.0.1:7480',
      host: '127.0.0.1:7480',
      bucket: 'backups',
      prefix: 'hosts/h1/',
      isAws: false,
      regionFromHost: undefined,
    });
    expect(parseS3Location('s3:https://s3.example.net/b1')).toMatchObject({ bucket: 'b1', prefix: '', host: 's3.example.net' });
  });

  it('knows AWS hosts and the region they name', () => {
    expect(parseS3Location('s3:https://s3.eu-west-3.amazonaws.com/bk')).toMatchObject({ isAws: true, regionFromHost: 'eu-west-3' });
    expect(parseS3Location('s3:https://s3.amazonaws.com/bk')).toMatchObject({ isAws: true, regionFromHost: undefined });
  });

  it.each([
    ['/srv/backups', /does not start with "s3:"/],
    ['s3:ftp://host/bucket', /scheme must be http or https/],
    ['s3:https://host', /bucket name is missing/],
    ['s3:https://host/', /bucket name is missing/],
    ['s3:https://host/b?x=1', /query strings/],
    ['s3:https://host/bucket/../other', /must not contain "." or ".."/],
    ['s3:https://host/bucket/%2e%2e/other', /must not contain "." or ".."/],
    ['s3:https://host/bucket/%zz', /malformed %-escape/],
  ])('refuses %s', (location, why) => {
    expect(() => parseS3Location(location)).toThrow(why);
  });

  it('refuses credentials in the string without repeating them', () => {
    const secret = 'S3cr3tValue';
    let err: unknown;
    try {
      parseS3Location(`s3:https://AKIA123:${secret}@s3.example.net/bucket`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/must not contain credentials/);
    expect((err as Error).message).not.toContain(secret);
  });

  it('formats back to a canonical string that round-trips', () => {
    const loc = parseS3Location('s3:https://s3.example.net:9000/bucket/a/b/');
    expect(formatS3Location(loc)).toBe('s3:https://s3.example.net:9000/bucket/a/b');
    expect(parseS3Location(formatS3Location(loc))).toEqual(loc);
  });

  it('describeLocation gives host, bucket and prefix for S3 and the absolute path otherwise', () => {
    expect(describeLocation('s3:https://s3.example.net/bucket/host-01')).toBe('s3:https://s3.example.net/bucket/host-01');
    expect(describeLocation('relative/repo')).toBe(path.resolve('relative/repo'));
  });
});
