/**
 * Where an end-to-end test keeps its repositories: a local directory, or a prefix in a bucket
 * on the S3 test server (scripts/rgw.sh). The same test bodies run against both, and reach
 * behind Coffre's back the same way (reading objects, damaging them as an admin or an
 * attacker with storage access could) through a TestRepository.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { adminClient, createTestBucket, s3TestEnv, type TestBucket } from './s3-test-env.js';
import { tempDir } from './tmp.js';

export interface TestRepository {
  /** The `--repo` argument. */
  readonly location: string;
  /** Every object key of the repository (`config`, `data/ab/ab…`), sorted. */
  keys(): Promise<string[]>;
  /** Every object with its size, sorted by key. */
  objects(): Promise<{ key: string; size: number }[]>;
  read(key: string): Promise<Buffer>;
  /** Replaces an object's bytes in place, bypassing Coffre (which never overwrites). */
  overwrite(key: string, bytes: Buffer): Promise<void>;
}

export interface RepoBackend {
  readonly name: 'local' | 's3';
  /** COFFRE_SKIP_S3=1: the S3 backend is not available here. */
  readonly skipped: boolean;
  /** Call in beforeAll (creates the test bucket). */
  setUp(): Promise<void>;
  /** Call in afterAll. */
  tearDown(): Promise<void>;
  /** A fresh location, no repository there yet. Only after setUp. */
  newRepository(tag: string): TestRepository;
}

/** Local first, then S3: each test file loops over these. */
export function repoBackends(): RepoBackend[] {
  return [localBackend(), s3Backend()];
}

export function localBackend(): RepoBackend {
  const root = tempDir('coffre-e2e-repos-');
  return {
    name: 'local',
    skipped: false,
    setUp: async () => undefined,
    tearDown: async () => undefined,
    newRepository: (tag) => localRepository(path.join(root, `${tag}-${Math.random().toString(36).slice(2, 8)}`)),
  };
}

function localRepository(dir: string): TestRepository {
  const file = (key: string) => path.join(dir, key);
  const keys = async () => walk(dir).map((f) => path.relative(dir, f).split(path.sep).join('/')).filter((k) => !k.startsWith('tmp/')).sort();
  return {
    location: dir,
    keys,
    objects: async () => (await keys()).map((key) => ({ key, size: fs.statSync(file(key)).size })),
    read: async (key) => fs.readFileSync(file(key)),
    overwrite: async (key, bytes) => {
      const mode = fs.statSync(file(key)).mode & 0o777; // objects are stored read-only
      fs.chmodSync(file(key), 0o644);
      fs.writeFileSync(file(key), bytes);
      fs.chmodSync(file(key), mode);
    },
  };
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** One bucket per test file; each repository is a prefix in it. */
export function s3Backend(): RepoBackend {
  const env = s3TestEnv();
  let bucket: TestBucket | undefined;
  let admin: S3Client | undefined;
  const ready = () => {
    if (!bucket || !admin) throw new Error('s3Backend: call setUp() first (in beforeAll)');
    return { bucket, admin };
  };
  return {
    name: 's3',
    skipped: env === undefined,
    setUp: async () => {
      if (!env) return;
      bucket = await createTestBucket(env, { tag: 'e2e' });
      admin = adminClient(env);
    },
    tearDown: async () => {
      admin?.destroy();
      await bucket?.destroy();
    },
    newRepository: (tag) => {
      const { bucket: b, admin: client } = ready();
      const prefix = `${tag}-${Math.random().toString(36).slice(2, 8)}`;
      return s3Repository(client, b, prefix);
    },
  };
}

function s3Repository(admin: S3Client, bucket: TestBucket, prefix: string): TestRepository {
  const Bucket = bucket.name;
  const full = (key: string) => `${prefix}/${key}`;
  const objects = async () => {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await admin.send(new ListObjectsV2Command({ Bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(prefix.length + 1), size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  };
  return {
    location: `${bucket.location}/${prefix}`,
    keys: async () => (await objects()).map((o) => o.key),
    objects,
    read: async (key) => {
      const out = await admin.send(new GetObjectCommand({ Bucket, Key: full(key) }));
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    },
    // The test bucket has no versioning, so a plain PutObject (no If-None-Match) replaces it.
    overwrite: async (key, bytes) => {
      await admin.send(new PutObjectCommand({ Bucket, Key: full(key), Body: bytes, ContentLength: bytes.length }));
    },
  };
}

/** Runs `fn` while `key` holds damaged bytes, then puts the original back, whatever happened. */
export async function withDamaged<T>(repo: TestRepository, key: string, damage: (bytes: Buffer) => Buffer, fn: () => Promise<T>): Promise<T> {
  const original = await repo.read(key);
  await repo.overwrite(key, damage(Buffer.from(original)));
  try {
    return await fn();
  } finally {
    await repo.overwrite(key, original);
  }
}

/** A copy with one bit flipped at the start, the middle or the last byte. */
export function flipByte(at: 'start' | 'middle' | 'end'): (bytes: Buffer) => Buffer {
  return (bytes) => {
    const i = at === 'start' ? 0 : at === 'end' ? bytes.length - 1 : Math.floor(bytes.length / 2);
    bytes[i]! ^= 0x01;
    return bytes;
  };
}
