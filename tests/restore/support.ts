/**
 * Shared by the restore and drill suites: repositories on both backends (a local directory,
 * a prefix in a bucket of the S3 test server) that a test can inspect and damage behind
 * Coffre's back as an admin or an attacker with storage access could — flip bytes,
 * truncate, delete — and a small-pack repository layout, so that a few MiB of test data
 * spread over many packs and several index objects.
 */
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repository } from '../../src/repository/repository.js';
import { initRepository } from '../../src/repository/init.js';
import { openStorage } from '../../src/storage/open-storage.js';
import type { IndexId } from '../../src/domain/ids.js';
import { adminClient, createTestBucket, s3TestEnv, type TestBucket } from '../helpers/s3-test-env.js';
import { tempDir } from '../helpers/tmp.js';
import { seededBytes } from '../helpers/tree.js';

export { seededBytes };

export interface Repo {
  /** the --repo argument */
  readonly location: string;
  keys(prefix?: string): Promise<string[]>;
  read(key: string): Promise<Buffer>;
  /** replaces an object in place, bypassing Coffre (which never overwrites) */
  overwrite(key: string, bytes: Buffer): Promise<void>;
  remove(key: string): Promise<void>;
  /** a copy of every object under a new location */
  copy(tag: string): Promise<Repo>;
}

export interface Backend {
  readonly name: 'local' | 's3';
  readonly skipped: boolean;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  newRepo(tag: string): Repo;
}

export function backends(): Backend[] {
  return [localBackend(), s3Backend()];
}

function localBackend(): Backend {
  const root = tempDir('coffre-restore-repos-');
  const make = (dir: string): Repo => {
    const file = (key: string) => path.join(dir, ...key.split('/'));
    const writable = (key: string) => fs.chmodSync(file(key), 0o644); // objects are stored read-only
    return {
      location: dir,
      keys: async (prefix = '') =>
        walk(dir)
          .map((f) => path.relative(dir, f).split(path.sep).join('/'))
          .filter((k) => !k.startsWith('tmp/') && k.startsWith(prefix))
          .sort(),
      read: async (key) => fs.readFileSync(file(key)),
      overwrite: async (key, bytes) => {
        writable(key);
        fs.writeFileSync(file(key), bytes);
      },
      remove: async (key) => fs.rmSync(file(key)),
      copy: async (tag) => {
        const to = path.join(root, `${tag}-${Math.random().toString(36).slice(2, 8)}`);
        fs.cpSync(dir, to, { recursive: true });
        return make(to);
      },
    };
  };
  return {
    name: 'local',
    skipped: false,
    setUp: async () => undefined,
    tearDown: async () => undefined,
    newRepo: (tag) => make(path.join(root, `${tag}-${Math.random().toString(36).slice(2, 8)}`)),
  };
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function s3Backend(): Backend {
  const env = s3TestEnv();
  let bucket: TestBucket | undefined;
  let admin: S3Client | undefined;
  const make = (prefix: string): Repo => {
    if (!bucket || !admin) throw new Error('call setUp() first');
    const b = bucket;
    const client = admin;
    const Bucket = b.name;
    const full = (key: string) => `${prefix}/${key}`;
    const keys = async (sub = '') => {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${prefix}/${sub}`, ContinuationToken: token }));
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key.slice(prefix.length + 1));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out.sort();
    };
    return {
      location: `${b.location}/${prefix}`,
      keys,
      read: async (key) => {
        const r = await client.send(new GetObjectCommand({ Bucket, Key: full(key) }));
        return Buffer.from((await r.Body?.transformToByteArray()) ?? []);
      },
      // The test bucket has no versioning: a plain PutObject (no If-None-Match) replaces the object.
      overwrite: async (key, bytes) => {
        await client.send(new PutObjectCommand({ Bucket, Key: full(key), Body: bytes, ContentLength: bytes.length }));
      },
      remove: async (key) => {
        await client.send(new DeleteObjectCommand({ Bucket, Key: full(key) }));
      },
      copy: async (tag) => {
        const to = `${tag}-${Math.random().toString(36).slice(2, 8)}`;
        for (const k of await keys()) {
          await client.send(new CopyObjectCommand({ Bucket, Key: `${to}/${k}`, CopySource: `${Bucket}/${full(k)}` }));
        }
        return make(to);
      },
    };
  };
  return {
    name: 's3',
    skipped: env === undefined,
    setUp: async () => {
      if (!env) return;
      bucket = await createTestBucket(env, { tag: 'restore' });
      admin = adminClient(env);
    },
    tearDown: async () => {
      admin?.destroy();
      await bucket?.destroy();
    },
    newRepo: (tag) => make(`${tag}-${Math.random().toString(36).slice(2, 8)}`),
  };
}

/** Small packs and chunks: a few MiB make dozens of packs and several index objects (one per 16 packs). */
export const SMALL_LAYOUT = {
  packSize: 256 * 1024,
  chunker: { minSize: 16 * 1024, avgSize: 32 * 1024, maxSize: 128 * 1024 },
} as const;

/** `coffre init` with a layout the CLI does not offer (tests only), through the library. */
export async function initRepo(location: string, passwordFile: string, layout: Partial<typeof SMALL_LAYOUT> = {}): Promise<void> {
  const storage = await openStorage(location);
  try {
    const pw = fs.readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
    await initRepository(storage, Buffer.from(pw), { kdf: 'min', recoveryKey: false, ...layout });
  } finally {
    await storage.close();
  }
}

export interface PackInfo {
  readonly key: string;
  readonly size: number;
  readonly types: ReadonlySet<'data' | 'tree'>;
  readonly index: string;
}

/** Every pack the index objects list, with what it holds and which index object lists it. */
export async function inspect(location: string, passwordFile: string): Promise<{ packs: PackInfo[]; indexes: { key: string; trees: boolean; packs: number }[] }> {
  const storage = await openStorage(location, { readOnly: true });
  const pw = fs.readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  const repo = await Repository.open(storage, Buffer.from(pw), { workers: 0 });
  try {
    const packs: PackInfo[] = [];
    const indexes: { key: string; trees: boolean; packs: number }[] = [];
    for (const id of (await repo.listIndexIds()).sort()) {
      const content = await repo.readIndex(id as IndexId);
      const key = `index/${id}`;
      let trees = false;
      for (const p of content.packs) {
        const types = new Set(p.blobs.map((b) => b.type));
        trees ||= types.has('tree');
        packs.push({ key: `data/${p.packId.slice(0, 2)}/${p.packId}`, size: p.size, types, index: key });
      }
      indexes.push({ key, trees, packs: content.packs.length });
    }
    return { packs: packs.sort((a, b) => a.key.localeCompare(b.key)), indexes };
  } finally {
    await repo.close();
    await storage.close();
  }
}

/** Every object's key and SHA-256: equal before and after means nothing was written or deleted. */
export async function fingerprint(repo: Repo): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const k of await repo.keys()) out.set(k, createHash('sha256').update(await repo.read(k)).digest('hex'));
  return out;
}

export function sha256(p: string): string {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** A content marker that must never appear in a report or in storage. */
export const MARKER = 'PATIENT-MARKER-DUPONT-Jean-1970-01-01';

/**
 * A source tree with big and small files, text and random data, an empty file, links,
 * modes, odd and long names: about 6.5 MiB, 50-odd files.
 */
export function buildSource(root: string, opts: { seed?: number } = {}): void {
  const seed = opts.seed ?? 1;
  const put = (rel: string, data: Buffer | string, mode?: number) => {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    if (mode !== undefined) fs.chmodSync(p, mode);
  };
  put('a/big-1.bin', seededBytes(3 * 1024 * 1024, seed));
  put('a/big-2.bin', seededBytes(2 * 1024 * 1024 + 12345, seed + 1));
  put('b/identity.csv', Buffer.from(`${MARKER}\n`.repeat(30_000)));
  for (let i = 0; i < 40; i++) put(`c/small-${String(i).padStart(2, '0')}.txt`, seededBytes(1024 + i * 512, seed + 100 + i));
  put('d/empty.txt', '');
  put('d/read-only.txt', 'kept as is', 0o444);
  put('d/Dossier Martin Claire (été).csv', 'nom;prénom\nMARTIN;Claire\n');
  put(`d/${'long-directory-name-'.repeat(4)}/${'and-a-long-file-name-'.repeat(5)}.txt`, 'long path');
  fs.symlinkSync('../a/big-1.bin', path.join(root, 'd/link'));
  fs.symlinkSync('no/such/target', path.join(root, 'd/dangling'));
  put('e/locked/inside.txt', 'inside a read-only directory');
  fs.chmodSync(path.join(root, 'e/locked'), 0o555);
  fs.utimesSync(path.join(root, 'd/empty.txt'), 1_000_000_000.123456, 1_000_000_000.123456);
}


/** Regular files below `root`, as snapshot paths (absolute, as backed up). */
export function filesBelow(root: string): string[] {
  const out: string[] = [];
  const walkDir = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walkDir(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walkDir(root);
  return out.sort();
}
